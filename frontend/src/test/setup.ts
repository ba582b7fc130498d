// What Mantine and React Flow need from a browser that jsdom lacks.
if (!window.matchMedia) {
  window.matchMedia = (query: string) =>
    ({
      matches: false,
      media: query,
      onchange: null,
      addListener: () => {},
      removeListener: () => {},
      addEventListener: () => {},
      removeEventListener: () => {},
      dispatchEvent: () => false,
    }) as MediaQueryList;
}
globalThis.ResizeObserver ??= class {
  observe() {}
  unobserve() {}
  disconnect() {}
};
window.HTMLElement.prototype.scrollIntoView ??= function scrollIntoView() {};

// Pages load on demand (a dynamic import each): on a busy two-core machine the first render of
// one takes seconds, past Testing Library's default second for findBy* queries.
import { configure } from "@testing-library/dom";

configure({ asyncUtilTimeout: 10_000 });
