/** Pure helpers for the screen's charts: colour scales, layout, ticks, grids, text. No DOM. */

export * from "./cli";
export * from "./curves";
export * from "./format";
export * from "./grid";
export * from "./layout";
export * from "./raf";
export * from "./scales";
export * from "./selection";
export * from "./ticks";
