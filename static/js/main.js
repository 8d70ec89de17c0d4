// Entry point: picks the view from the URL (#/login, #/signup, #/board, #/account and
// its pages #/account/profile|security|activity|sessions|danger, and email|two-factor:
// the profile or security page at that section) and the session, and wires
// the header and its account menu, the skip link and "Sign out" (the connection state
// is lib/connection.js's).
// Modules wire nothing when imported; init() below starts each of them once.

import { run } from "./lib/action.js";
import * as connection from "./lib/connection.js";
import * as dialog from "./lib/dialog.js";
import { avatar } from "./lib/avatar.js";
import { byId, el } from "./lib/dom.js";
import { disclosure } from "./lib/menu.js";
import * as session from "./lib/session.js";
import * as account from "./views/account/account.js";
import * as profile from "./views/account/profile.js";
import * as auth from "./views/auth/sign-in.js";
import * as codeStep from "./views/auth/code-step.js";
import * as recovery from "./views/auth/recovery.js";
import * as board from "./views/board/board.js";
import * as composer from "./views/board/composer.js";

let ui = null;
let current = null; // the view on screen ("auth", "board", "account/…")
let firstRoute = true;
let menu = null; // the account menu (lib/menu.js)
let afterSignIn = null; // the account page a "Sign in to …" link asked for (#/login?then=…)

const ACCOUNT_PAGES = ["profile", "email", "security", "activity", "two-factor", "sessions", "danger"];
const RECOVERY = ["forgot", "reset", "verify-email"]; // open with or without a session

function requestedRoute() {
  const name = location.hash.replace(/^#\/?/, "").replace(/\?.*$/, "");
  if (["login", "signup", "board", "account", ...RECOVERY].includes(name)) return name;
  const [top, page] = name.split("/");
  if (top === "account" && ACCOUNT_PAGES.includes(page)) return name;
  return "";
}

function go(name) {
  if (location.hash !== `#/${name}`) history.replaceState(null, "", `#/${name}`);
}

/** The tab's title: the page's heading, then the app's name. */
function setTitle(title) {
  document.title = `${title} · chalkboard`;
}

function showView(key, name, title) {
  for (const [view, node] of Object.entries(ui.views)) node.hidden = view !== key;
  setTitle(title);
  const changed = current !== name;
  current = name;
  return changed;
}

/** Show what the URL asks for, or what the session allows. */
function route() {
  // On a fresh load focus stays at the top of the document (no ring on a heading the
  // person never moved to); later view changes move it to the new view's heading.
  const loaded = firstRoute;
  const focus = !loaded;
  firstRoute = false;
  const username = session.currentUser();
  let name = requestedRoute();
  if (RECOVERY.includes(name)) {
    codeStep.stopAutofill();
    board.leaveBoard();
    ui.nav.hidden = !username;
    const title = recovery.show(name);
    const changed = showView("recovery", name, title);
    if (changed) recovery.focusFirst(name);
    return;
  }
  if (!username) {
    board.leaveBoard();
    menu.close();
    ui.nav.hidden = true;
    const then = new URLSearchParams(location.hash.split("?")[1] ?? "").get("then");
    const [top, page] = (then ?? "").split("/");
    if (name === "login" && top === "account" && ACCOUNT_PAGES.includes(page)) {
      afterSignIn = then;
      if (page === "profile") auth.setNotice("Sign in to send a new link: your Profile opens next.");
    }
    if (name !== "signup") name = "login";
    go(name);
    const title = auth.setMode(name);
    const changed = showView("auth", name, title);
    if (name === "login") codeStep.offerAutofill(); // passkeys in the username field's autofill
    else codeStep.stopAutofill();
    if (changed) auth.focusFirstField(); // a sign-in page starts in its first field, as people expect
    return;
  }
  codeStep.stopAutofill();
  ui.nav.hidden = false;
  showWho(username);
  learnName(username);
  if (afterSignIn) {
    // Just signed in from a "Sign in to …" link: its page rather than the board.
    if (["login", "signup", ""].includes(name)) name = afterSignIn;
    afterSignIn = null;
  }
  if (!name.startsWith("account")) name = "board";
  go(name);
  let changed;
  if (name === "board") {
    changed = showView("board", name, "Board");
    board.showBoard();
  } else {
    board.leaveBoard();
    const title = account.showAccount(name.split("/")[1] ?? "");
    changed = showView("account", name, title);
  }
  menu.close();
  for (const anchor of ui.nav.querySelectorAll("a")) {
    const pages = anchor.dataset.pages?.split(" ") ?? [anchor.getAttribute("href").slice(2)];
    if (pages.includes(name)) anchor.setAttribute("aria-current", "page");
    else anchor.removeAttribute("aria-current");
  }
  if (changed && focus) (name === "board" ? ui.headings.board : ui.headings.account).focus();
}

/** Once per signed-in person: their display name for the header (GET /me). */
async function learnName(username) {
  if (ui.whoami.dataset.named === username) return;
  ui.whoami.dataset.named = username;
  try {
    const me = await session.authed("GET", "/me");
    if (session.currentUser() === me.username) showWho(me.username, me.display_name);
  } catch {
    ui.whoami.dataset.named = ""; // try again on the next view change
  }
}

/** The header's menu button and the menu name the person (display name when known). */
function showWho(username, displayName = null) {
  const name = displayName ?? (ui.whoami.dataset.username === username ? ui.whoami.textContent : username);
  ui.whoami.dataset.username = username;
  ui.whoami.textContent = name;
  ui.avatar.replaceChildren(avatar(name, username, "avatar small"));
  ui.menuName.textContent = name;
  ui.menuUsername.textContent = username;
  // As on the board: "alice" once, not "alice @alice", when the name is the username.
  ui.menuUsername.parentElement.hidden = name.toLowerCase() === username.toLowerCase();
  ui.menuAvatar.replaceChildren(avatar(name, username, "avatar"));
}

function signedOut(message, { username = null, keepDraft = false, success = false } = {}) {
  ui.whoami.dataset.named = "";
  board.reset({ keepDraft });
  account.resetAccount();
  codeStep.endCodeStep();
  auth.setNotice(message, { success });
  auth.prefill(username);
  go("login");
  route();
}

/**
 * "Sign out" (the account menu). Signing out deletes the unsent message from this
 * browser (whoever uses it next must not read it), so with one in the composer the
 * person is asked first, and "Keep writing" (the default) takes them back to it.
 */
async function signOut() {
  const draft = composer.unsent() || session.loadDraft(session.currentUser()).trim();
  let outcome;
  if (draft) {
    menu.close();
    outcome = await dialog.ask({
      title: "Discard your unsent message?",
      text: [
        el("p", { text: "Signing out deletes it from this browser, so nobody who uses it after you can read it." }),
        el("p", { className: "preview", text: draft, attrs: { dir: "auto" } }),
      ],
      password: false,
      cancel: "Keep writing",
      focus: "cancel",
      submit: "Sign out and discard",
      danger: true,
      busy: "Signing out…",
      action: async () => ({ error: await session.logout() }),
    });
    if (!outcome) {
      go("board");
      route();
      composer.focus({ atEnd: true });
      return;
    }
  } else {
    outcome = await run(ui.signOut, "Signing out…", async () => ({ error: await session.logout() }));
    if (!outcome) return; // already signing out
  }
  let message = "You have signed out.";
  if (outcome.error?.unreachable) {
    message =
      "You are signed out on this device, but the server could not be reached to end the session there.";
  } else if (outcome.error) {
    message = `You are signed out on this device, but the server did not confirm it: ${outcome.error.message}`;
  }
  signedOut(message);
}

/**
 * "Send a new link" on the verification page (signed in): Account → Profile, and its
 * email dialog with the pending address when GET /me knows it (a verified address
 * hides a pending change, so then the field starts empty).
 */
async function sendNewLink() {
  go("account/profile");
  route();
  let me = null;
  try {
    me = await session.authed("GET", "/me");
  } catch {
    // the dialog still opens, empty; a failure to send is said in it
  }
  if (current !== "account/profile") return; // the session ended, or the person moved on
  const pending = me && !me.email_verified ? (me.email ?? "") : "";
  profile.changeEmail({ address: pending, title: "Send a new verification link" });
}

/** The skip link moves focus past the header to the view's content (the hash is the router's). */
function skipToContent(event) {
  event.preventDefault();
  const target =
    current === "board"
      ? board.skipTarget()
      : current === "login" || current === "signup"
        ? byId("auth-title")
        : ui.headings.account;
  target.focus();
  target.scrollIntoView({ block: "start" });
}

function init() {
  ui = {
    nav: byId("nav"),
    whoami: byId("whoami"),
    avatar: byId("me-avatar"),
    menuButton: byId("account-menu-button"),
    menuName: byId("menu-name"),
    menuUsername: byId("menu-username"),
    menuAvatar: byId("menu-avatar"),
    signOut: byId("sign-out"),
    skip: byId("skip-link"),
    views: {
      auth: byId("auth-view"),
      board: byId("board-view"),
      account: byId("account-view"),
      recovery: byId("recovery-view"),
    },
    headings: {
      board: byId("board-title"),
      account: byId("account-title"),
    },
  };
  menu = disclosure(ui.menuButton, byId("account-menu-panel"));
  const signedIn = () => {
    if (current === "login" || current === "signup") go(afterSignIn ?? "board");
    route();
  };
  dialog.init();
  auth.init({ signedIn });
  codeStep.init({ signedIn, titled: setTitle });
  recovery.init({
    done: (notice) => {
      // A reset ends every session, this browser's too: forget it and sign in afresh.
      session.forgetEndedSession();
      signedOut(notice, { success: true });
    },
    sendAgain: sendNewLink,
    titled: setTitle,
  });
  board.init();
  account.init({
    onAccountDeleted: (notice) => signedOut(notice),
    onProfile: (me) => showWho(me.username, me.display_name),
  });
  connection.init({ unsentText: composer.unsent, reconnected: board.reconnected });
  // Writing or clearing the composer while offline: the strip says whether text is kept.
  byId("post-content").addEventListener("input", () => connection.say());
  session.start({
    onEnded: (message) => {
      if (current === "login" || current === "signup") return; // already signed out here
      // The person did not ask for this: keep their unsent text for when they are back.
      signedOut(message, { username: ui.whoami.dataset.username, keepDraft: true });
    },
    onChanged: (username) => {
      // Tokens renewed (here or in another tab), or someone signed in elsewhere in this browser.
      if (current === "login" || current === "signup" || ui.whoami.dataset.username !== username) {
        board.reset({ keepDraft: true }); // showBoard keeps it only for its writer
        route();
      }
    },
  });
  ui.signOut.addEventListener("click", signOut);
  ui.skip.addEventListener("click", skipToContent);
  window.addEventListener("hashchange", () => route());
  route();
}

init();
