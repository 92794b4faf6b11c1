/**
 * Small JSON Schema builders for route validation and the OpenAPI document.
 */
export type JsonSchema = Readonly<Record<string, unknown>>

/**
 * A string property.
 */
export const STRING: JsonSchema = { type: 'string' }
/**
 * A boolean property.
 */
export const BOOLEAN: JsonSchema = { type: 'boolean' }
/**
 * A non-negative integer property.
 */
export const COUNT: JsonSchema = { type: 'integer', minimum: 0 }
/**
 * A duration in milliseconds, at most 100 years (further back than any date the lake can hold).
 */
export const DURATION_MS: JsonSchema = { type: 'integer', minimum: 0, maximum: 100 * 365.25 * 86_400_000 }
/**
 * A string or a list of strings (import sources).
 */
export const STRINGS: JsonSchema = {
  anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
}

/**
 * An object schema with the given properties; unknown properties are refused.
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
 */
export function params(...names: readonly string[]): JsonSchema {
  return object(Object.fromEntries(names.map((n) => [n, STRING])), names)
}
