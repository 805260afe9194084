/** Types of scripts/plot-sequential.mjs (a plain Node script, imported by its test). */
export declare function sequentialSvg(csvText: string, title?: string): string;
