// Entry point: picks the view from the URL (#/login, #/signup, #/board, #/account)
// and the session, and wires the header's navigation, the skip link and "Log out".
// Modules wire nothing when imported; init() below starts each of them once.

import * as account from "./account.js";
import * as auth from "./auth.js";
import * as board from "./board.js";
import { busy, byId } from "./dom.js";
import * as security from "./security.js";
import * as session from "./session.js";
import * as sessionsUi from "./sessions-ui.js";

let ui = null;
let current = null; // the view on screen
let loggingOut = false;

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
    board.leaveBoard();
    ui.nav.hidden = true;
    if (name !== "signup") name = "login";
    go(name);
    const title = auth.setMode(name);
    showView("auth", title);
    if (focus) auth.focusFirstField();
    return;
  }
  ui.nav.hidden = false;
  ui.whoami.textContent = username;
  if (name !== "account") name = "board";
  go(name);
  const changed = showView(name, name === "board" ? "Board" : "Account");
  if (name === "board") board.showBoard();
  else {
    board.leaveBoard();
    account.showAccount();
  }
  for (const [key, link] of Object.entries({ board: "#/board", account: "#/account" })) {
    const anchor = ui.nav.querySelector(`a[href="${link}"]`);
    if (key === name) anchor.setAttribute("aria-current", "page");
    else anchor.removeAttribute("aria-current");
  }
  if (changed && focus) ui.headings[name].focus();
}

function signedOut(message, { username = null, keepDraft = false } = {}) {
  board.reset({ keepDraft });
  account.resetAccount();
  security.endCodeStep();
  auth.setNotice(message);
  auth.prefill(username);
  go("login");
  route();
}

async function logOut() {
  if (loggingOut) return;
  loggingOut = true;
  const done = busy(ui.logout, "Logging out…");
  const problem = await session.logout();
  done();
  loggingOut = false;
  let message = "You have logged out.";
  if (problem?.unreachable) {
    message =
      "You are logged out on this device, but the server could not be reached to end the session there.";
  } else if (problem) {
    message = `You are logged out on this device, but the server did not confirm it: ${problem.message}`;
  }
  signedOut(message);
}

/** The skip link moves focus past the header to the view's content (the hash is the router's). */
function skipToContent(event) {
  event.preventDefault();
  const target =
    current === "board"
      ? byId("messages")
      : current === "auth"
        ? byId("auth-title")
        : (ui.headings[current] ?? byId("main"));
  target.focus();
  target.scrollIntoView({ block: "start" });
}

function init() {
  ui = {
    nav: byId("nav"),
    whoami: byId("whoami"),
    logout: byId("logout"),
    skip: byId("skip-link"),
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
  const signedIn = () => {
    go("board");
    route();
  };
  auth.init({ signedIn });
  security.init({ signedIn });
  board.init();
  account.init();
  sessionsUi.init({ onAccountDeleted: (notice) => signedOut(notice) });
  session.start({
    onEnded: (message) => {
      if (current === "auth") return; // already signed out here
      // The person did not ask for this: keep their unsent text for when they are back.
      signedOut(message, { username: ui.whoami.textContent, keepDraft: true });
    },
    onChanged: (username) => {
      // Tokens renewed (here or in another tab), or someone signed in elsewhere in this browser.
      if (current === "auth" || ui.whoami.textContent !== username) {
        board.reset({ keepDraft: true }); // showBoard keeps it only for its writer
        route();
      }
    },
  });
  ui.logout.addEventListener("click", logOut);
  ui.skip.addEventListener("click", skipToContent);
  window.addEventListener("hashchange", () => route());
  route({ focus: true });
}

init();
