// Copy buttons: <button data-copy="#field"> copies the field's value and says so.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-copy]");
  if (!button) return;
  const field = document.querySelector(button.dataset.copy);
  if (!field) return;
  try {
    await navigator.clipboard.writeText(field.value);
  } catch {
    field.select();
    document.execCommand("copy");
  }
  const note = button.parentElement.querySelector(".copied");
  if (note) {
    note.hidden = false;
    setTimeout(() => { note.hidden = true; }, 2000);
  }
});

// A form that comes back refused (422, or 429 for too many password attempts) still
// replaces its section, so the reason shows.
document.addEventListener("htmx:beforeSwap", (event) => {
  if ([422, 429].includes(event.detail.xhr.status)) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
