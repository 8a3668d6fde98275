//! The layering ARCHITECTURE.md describes, checked over the source so that it stays true:
//! `api` and `web` never import each other, `http` imports neither, models import nothing from
//! the domain, and no module imports its way back to itself.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every Rust file under `src/`, by its path relative to `src/`.
fn sources() -> BTreeMap<String, String> {
    fn walk(dir: &Path, root: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path.strip_prefix(root).expect("under src");
                let text = std::fs::read_to_string(&path).expect("read a source file");
                out.insert(rel.to_string_lossy().replace('\\', "/"), text);
            }
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = BTreeMap::new();
    walk(&root, &root, &mut out);
    out
}

/// The code of a file without comments (so prose that names a module is no import).
fn code(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) if !line[..at].contains('"') => &line[..at],
            _ => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The module path of a file: `web/login.rs` → [web, login]; `web/mod.rs` → [web].
fn module_of(file: &str) -> Vec<String> {
    let mut parts: Vec<String> = file
        .trim_end_matches(".rs")
        .split('/')
        .map(str::to_owned)
        .collect();
    if parts
        .last()
        .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
    {
        parts.pop();
    }
    parts
}

/// Every path the code names from the crate's root or a parent (`crate::a::b`, `super::c`),
/// with `use` groups (`use super::{a, b::c}`) expanded, as absolute module paths.
fn paths_named(file: &str, code: &str) -> Vec<Vec<String>> {
    let here = module_of(file);
    let mut found = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let rest: String = bytes[i..bytes.len().min(i + 8)].iter().collect();
        let boundary = i == 0 || !(bytes[i - 1].is_alphanumeric() || bytes[i - 1] == '_');
        let start = if rest.starts_with("crate::") {
            Some((Vec::new(), 5))
        } else if rest.starts_with("super::") {
            let mut parent = here.clone();
            // In `a/b.rs` super is `a`; in `a/mod.rs` (module `a`) super is the root.
            if !file.ends_with("mod.rs") || here.len() > 1 {
                parent.pop();
            }
            if file.ends_with("mod.rs") && here.len() == 1 {
                parent.clear();
            }
            Some((parent, 5))
        } else {
            None
        };
        match start {
            Some((base, skip)) if boundary => {
                let (paths, used) = expand(&bytes[i + skip..]);
                for path in paths {
                    let mut full = base.clone();
                    full.extend(path);
                    found.push(full);
                }
                i += skip + used.max(1);
            }
            _ => i += 1,
        }
    }
    found
}

/// Reads `a::b::{c, d::e}` from the start of `text`: the paths it names, and how much it read.
fn expand(text: &[char]) -> (Vec<Vec<String>>, usize) {
    let mut prefix = Vec::new();
    let mut i = 0;
    loop {
        let start = i;
        while i < text.len() && (text[i].is_alphanumeric() || text[i] == '_') {
            i += 1;
        }
        if i > start {
            prefix.push(text[start..i].iter().collect::<String>());
        }
        if text[i..].starts_with(&[':', ':', '{']) {
            i += 3;
            let mut all = Vec::new();
            loop {
                while i < text.len() && text[i].is_whitespace() {
                    i += 1;
                }
                if i >= text.len() || text[i] == '}' {
                    i += 1;
                    break;
                }
                let (inner, used) = expand(&text[i..]);
                for path in inner {
                    let mut full = prefix.clone();
                    full.extend(path);
                    all.push(full);
                }
                i += used.max(1);
                while i < text.len() && (text[i].is_whitespace() || text[i] == ',') {
                    i += 1;
                }
            }
            return (all, i);
        }
        if text[i..].starts_with(&[':', ':']) {
            i += 2;
            continue;
        }
        return (vec![prefix], i);
    }
}

/// The file that defines the longest module prefix of `path`, if any.
fn file_of(path: &[String], files: &BTreeSet<String>) -> Option<String> {
    (1..=path.len()).rev().find_map(|n| {
        let module = path[..n].join("/");
        [format!("{module}.rs"), format!("{module}/mod.rs")]
            .into_iter()
            .find(|f| files.contains(f))
    })
}

/// Which files each file imports (the crate root, which wires everything, left out).
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let sources = sources();
    let files: BTreeSet<String> = sources.keys().cloned().collect();
    sources
        .iter()
        .filter(|(file, _)| !matches!(file.as_str(), "lib.rs" | "main.rs"))
        .map(|(file, text)| {
            let targets = paths_named(file, &code(text))
                .iter()
                .filter_map(|path| file_of(path, &files))
                .filter(|target| target != file && !matches!(target.as_str(), "lib.rs" | "main.rs"))
                .collect();
            (file.clone(), targets)
        })
        .collect()
}

#[test]
fn api_and_web_are_siblings_over_http_and_models_know_no_domain() {
    let forbidden = [
        ("api/", "web/", "the API imports the portal"),
        ("web/", "api/", "the portal imports the API"),
        ("http/", "web/", "the shared HTTP layer imports the portal"),
        ("http/", "api/", "the shared HTTP layer imports the API"),
        ("models/", "domain/", "a model imports the domain"),
        ("domain/", "web/", "the domain imports the portal"),
        ("domain/", "api/", "the domain imports the API"),
        ("domain/", "http/", "the domain imports HTTP"),
        ("models/", "http/", "a model imports HTTP"),
    ];
    let mut broken = Vec::new();
    for (file, targets) in imports() {
        for target in targets {
            for (from, to, what) in forbidden {
                if file.starts_with(from) && target.starts_with(to) {
                    broken.push(format!("{what}: src/{file} → src/{target}"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn no_module_imports_its_way_back_to_itself() {
    let graph = imports();
    let mut circles = Vec::new();
    // A depth-first search from every file; a path back to where it started is a circle.
    for start in graph.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((file, path)) = stack.pop() {
            for next in graph.get(&file).into_iter().flatten() {
                if next == start {
                    let mut circle = path.clone();
                    circle.push(start.clone());
                    circles.push(circle.join(" → "));
                } else if seen.insert(next.clone()) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
    circles.sort();
    circles.dedup();
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_checker_reads_use_groups_and_parents() {
    let named = paths_named(
        "web/login.rs",
        "use super::{pages::Layout, session};\nuse crate::http::error::Error;\nlet x = crate::db::now();",
    );
    let named: Vec<String> = named.iter().map(|p| p.join("::")).collect();
    assert_eq!(
        named,
        [
            "web::pages::Layout",
            "web::session",
            "http::error::Error",
            "db::now"
        ]
    );
    assert_eq!(
        paths_named("web/mod.rs", "use super::AppState;")[0],
        ["AppState"]
    );
}
