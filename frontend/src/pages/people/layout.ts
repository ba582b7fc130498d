/** What the People page's parts share. */
export const PAGE_SIZE = 25;
export const PHONE = "(max-width: 48em)";
export const WIDE = "(min-width: 62em)";
