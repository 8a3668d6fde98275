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
