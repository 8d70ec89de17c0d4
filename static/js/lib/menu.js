// A menu button as a disclosure (WAI-ARIA's "disclosure navigation menu"): the button
// says aria-expanded and controls a panel of links and buttons. Enter, Space or a click
// toggles it; ↓/↑ on the button open it at the first/last item; inside, ↓/↑ move
// between items (wrapping), Home/End go to the ends; Escape closes it and puts the focus
// back on the button; Tab out of it, a click outside it or choosing an item closes it.

/** Wire button to panel; returns { close(refocus), isOpen() }. */
export function disclosure(button, panel) {
  const root = button.parentElement;
  const items = () =>
    Array.from(panel.querySelectorAll("a[href], button")).filter((item) => !item.closest("[hidden]"));

  function open(focusAt = null) {
    panel.hidden = false;
    button.setAttribute("aria-expanded", "true");
    document.addEventListener("pointerdown", outside, true);
    if (focusAt !== null) {
      const list = items();
      list.at(focusAt)?.focus({ preventScroll: true });
    }
  }

  function close(refocus = false) {
    if (panel.hidden) return;
    panel.hidden = true;
    button.setAttribute("aria-expanded", "false");
    document.removeEventListener("pointerdown", outside, true);
    // The menu lives in the header, which stays at the window's top: focusing in it must
    // not scroll the page (the html's scroll-padding counts the header as covering it,
    // so focus() scrolled the board far up, from the newest to days before).
    if (refocus) button.focus({ preventScroll: true });
  }

  function outside(event) {
    if (!root.contains(event.target)) close();
  }

  button.addEventListener("click", () => (panel.hidden ? open() : close()));
  button.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      open(event.key === "ArrowDown" ? 0 : -1);
    }
  });
  root.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !panel.hidden) {
      event.preventDefault();
      close(true);
      return;
    }
    if (panel.hidden || !panel.contains(event.target)) return;
    const list = items();
    const at = list.indexOf(document.activeElement);
    const next = {
      ArrowDown: (at + 1) % list.length,
      ArrowUp: (at - 1 + list.length) % list.length,
      Home: 0,
      End: list.length - 1,
    }[event.key];
    if (next === undefined) return;
    event.preventDefault();
    list[next].focus({ preventScroll: true });
  });
  // Tab (or anything else) taking the focus out of the menu closes it.
  root.addEventListener("focusout", (event) => {
    if (event.relatedTarget && !root.contains(event.relatedTarget)) close();
  });
  // A link is followed (the router shows its page); the panel's job is done.
  panel.addEventListener("click", (event) => {
    if (event.target.closest("a[href]")) close();
  });
  return { close, isOpen: () => !panel.hidden };
}
