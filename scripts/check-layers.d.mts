export declare const NEST_ONLY: readonly RegExp[];
export declare const CORE_ROOMS: ReadonlyArray<readonly [string, number]>;
export declare function importsOf(source: string): string[];
export declare function layerViolations(files: Iterable<readonly [string, string]>): string[];
export declare function toolsViolations(files: Iterable<readonly [string, string]>): string[];
export declare const CORE_ADDONS: readonly string[];
export declare function addonViolations(files: Iterable<readonly [string, string]>): string[];
