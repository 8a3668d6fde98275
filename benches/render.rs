//! Benchmark 4: rendering the API Management table (the htmx section of the page: 50 rows,
//! with their keys' times and the next-page link) against serialising the same 50 rows to
//! JSON with serde_json. `cargo bench --bench render`.

use std::hint::black_box;

use askama::Template;
use criterion::{Criterion, criterion_group, criterion_main};
use keyport::db::{DatabaseUrl, Db};
use keyport::domain::api_management::{self, Listed};
use keyport::web::api_management::list_section;

fn render(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = DatabaseUrl::Sqlite(dir.path().join("render.db").display().to_string());
    let db = Db::connect(&url, 1).expect("connect");
    db.migrate().expect("migrate");
    let mut conn = db.get().expect("conn");
    keyport::domain::seed::people(&mut conn, 200, true, 0).expect("seed");
    let page = api_management::list(&mut conn, None, None, api_management::Listed::WithApiAccess)
        .expect("a page");
    let section = list_section(String::new(), Listed::WithApiAccess, page);
    assert_eq!(section.rows().len(), 50);

    let mut group = c.benchmark_group("API Management, 50 rows");
    group.bench_function("HTML (askama)", |b| {
        b.iter(|| black_box(&section).render().expect("render"))
    });
    group.bench_function("JSON (serde_json)", |b| {
        b.iter(|| serde_json::to_string(black_box(section.rows())).expect("JSON"))
    });
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
