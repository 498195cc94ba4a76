// The form's sticky bar sits just below the sticky header, whose height changes when its words
// wrap (a longer language, a longer sync state, portrait): --header-height follows it, so the
// header never covers the bar.
export function followHeaderHeight() {
  const header = document.querySelector(".site-header");
  if (!header || !("ResizeObserver" in window)) return;
  const root = document.documentElement;
  new ResizeObserver(() => root.style.setProperty("--header-height", `${header.offsetHeight}px`)).observe(header);
}
