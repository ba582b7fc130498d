/** The run view's clock is the app's server-aware one (clock.ts). */
export { useNow } from "../clock";
