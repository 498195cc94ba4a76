// Hash routing: which screen is on show, and what leaving it does (a form stops its timer and
// saves). The screens are added by app.js, so this module imports none of them.
export const main = document.getElementById("main");

const screens = {};
let current = null;
let leaving = () => {};
let locked = null;

// `table` maps the first part of the hash (#/observe/<id>) to a function that draws the screen.
export function addScreens(table) {
  Object.assign(screens, table);
}

// What to run before the next screen is drawn (awaited: a form saves what it holds).
export function onLeave(run) {
  leaving = run;
}

export const currentScreen = () => current;

export const go = (hash) => {
  location.hash = hash;
};

// Leaves the screen on show for one that is not routed (the locked screen).
export async function leave(next) {
  await leaving();
  leaving = () => {};
  current = next;
}

// From now on `show` replaces every screen (someone else signed in on this tablet).
export function lockTo(show) {
  locked = show;
}

export async function route() {
  if (locked) return locked(); // no screen of this user's until they sign in
  await leaving();
  leaving = () => {};
  const [screen, id] = location.hash.replace(/^#\/?/, "").split("/");
  current = screen || "home";
  await (screens[current] || screens.home)(id);
  main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}
