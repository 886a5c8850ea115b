/** A line of a JavaScript stack trace ("    at main (/x/y.js:3:9)"): user errors never print one. */
export const STACK_TRACE = /^\s+at .+[(:]\d+/m;
