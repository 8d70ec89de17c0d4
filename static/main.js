// Entry point: picks the view from the URL (#/login, #/signup, #/board, #/account)
// and the session, and wires the header's navigation and "Log out".

import { resetAccount, showAccount } from "./account.js";
import { focusFirstField, initAuth, prefill, setMode, setNotice } from "./auth.js";
import { reset as resetBoard, showBoard } from "./board.js";
import { busy, byId } from "./dom.js";
import * as session from "./session.js";

const ui = {
  nav: byId("nav"),
  whoami: byId("whoami"),
  logout: byId("logout"),
  views: {
    auth: byId("auth-view"),
    board: byId("board-view"),
    account: byId("account-view"),
  },
  headings: {
    board: byId("board-title"),
    account: byId("account-title"),
  },
};

let current = null; // the view on screen

function requestedRoute() {
  const name = location.hash.replace(/^#\/?/, "");
  return ["login", "signup", "board", "account"].includes(name) ? name : "";
}

function go(name) {
  if (location.hash !== `#/${name}`) history.replaceState(null, "", `#/${name}`);
}

function showView(name, title) {
  for (const [key, view] of Object.entries(ui.views)) view.hidden = key !== name;
  document.title = `${title} · chalkboard`;
  const changed = current !== name;
  current = name;
  return changed;
}

/** Show what the URL asks for, or what the session allows. */
function route({ focus = true } = {}) {
  const username = session.currentUser();
  let name = requestedRoute();
  if (!username) {
    ui.nav.hidden = true;
    if (name !== "signup") name = "login";
    go(name);
    const title = setMode(name);
    showView("auth", title);
    if (focus) focusFirstField();
    return;
  }
  ui.nav.hidden = false;
  ui.whoami.textContent = username;
  if (name !== "account") name = "board";
  go(name);
  const changed = showView(name, name === "board" ? "Board" : "Account");
  if (name === "board") showBoard();
  else showAccount();
  for (const [key, link] of Object.entries({ board: "#/board", account: "#/account" })) {
    const anchor = ui.nav.querySelector(`a[href="${link}"]`);
    if (key === name) anchor.setAttribute("aria-current", "page");
    else anchor.removeAttribute("aria-current");
  }
  if (changed && focus) ui.headings[name].focus();
}

function signedOut(message, { username = null, keepDraft = false } = {}) {
  resetBoard({ keepDraft });
  resetAccount();
  setNotice(message);
  prefill(username);
  go("login");
  route();
}

async function logOut() {
  const done = busy(ui.logout, "Logging out…");
  const problem = await session.logout();
  done();
  let message = "You have logged out.";
  if (problem?.unreachable) {
    message =
      "You are logged out on this device, but the server could not be reached to end the session there.";
  } else if (problem) {
    message = `You are logged out on this device, but the server did not confirm it: ${problem.message}`;
  }
  signedOut(message);
}

session.start({
  onEnded: (message) => {
    if (current === "auth") return; // already signed out here
    // The person did not ask for this: keep their unsent text for when they are back.
    signedOut(message, { username: ui.whoami.textContent, keepDraft: true });
  },
  onChanged: (username) => {
    // Tokens renewed (here or in another tab), or someone signed in elsewhere in this browser.
    if (current === "auth" || ui.whoami.textContent !== username) {
      resetBoard({ keepDraft: true }); // showBoard keeps it only for its writer
      route();
    }
  },
});

initAuth({
  signedIn: () => {
    go("board");
    route();
  },
});

ui.logout.addEventListener("click", logOut);
window.addEventListener("hashchange", () => route());
route({ focus: true });
