/**
 * Small JSON Schema builders for route validation and the OpenAPI document.
 *
 * @example
 * ```ts
 * const body = object({ name: STRING, from: STRING }, ['name'])
 * ```
 */
export type JsonSchema = Readonly<Record<string, unknown>>

/**
 * A string property.
 *
 * @example
 * ```ts
 * object({ ref: STRING })
 * ```
 */
export const STRING: JsonSchema = { type: 'string' }
/**
 * A boolean property.
 *
 * @example
 * ```ts
 * object({ force: BOOLEAN })
 * ```
 */
export const BOOLEAN: JsonSchema = { type: 'boolean' }
/**
 * A non-negative integer property.
 *
 * @example
 * ```ts
 * object({ n: COUNT })
 * ```
 */
export const COUNT: JsonSchema = { type: 'integer', minimum: 0 }
/**
 * A duration in milliseconds, at most 100 years (further back than any date the lake can hold).
 *
 * @example
 * ```ts
 * object({ grace_ms: DURATION_MS })
 * ```
 */
export const DURATION_MS: JsonSchema = { type: 'integer', minimum: 0, maximum: 100 * 365.25 * 86_400_000 }
/**
 * A string or a list of strings (import sources).
 *
 * @example
 * ```ts
 * object({ from: STRINGS }, ['from'])
 * ```
 */
export const STRINGS: JsonSchema = {
  anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
}

/**
 * An object schema with the given properties; unknown properties are refused.
 *
 * @example
 * ```ts
 * object({ into: STRING, dry_run: BOOLEAN })
 * ```
 */
export function object(properties: Record<string, JsonSchema>, required: readonly string[] = []): JsonSchema {
  return {
    type: 'object',
    properties,
    ...(required.length > 0 ? { required } : {}),
    additionalProperties: false,
  }
}

/**
 * Path parameters, all strings.
 *
 * @example
 * ```ts
 * params('name') // { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] }
 * ```
 */
export function params(...names: readonly string[]): JsonSchema {
  return object(Object.fromEntries(names.map((n) => [n, STRING])), names)
}
