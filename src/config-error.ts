/** Thrown when the environment cannot make a working configuration; the message says which variable. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** The part of an environment variable's JSON schema that says which values it accepts. */
interface VariableSchema {
  readonly type?: string;
  readonly enum?: readonly unknown[];
  readonly minimum?: number;
  readonly maximum?: number;
}

/** The part of an ajv error this module reads: which property failed. */
interface SchemaError {
  readonly instancePath?: string;
}

// A mistyped value is echoed so the operator sees what was read, but never at length.
const MAX_ECHO = 64;

/**
 * One ConfigError naming every variable the schema refused, each once, with what it accepts:
 * `LOG_LEVEL must be one of fatal, error, ... (got "verbose")`. The description comes from the
 * variable's schema, not from the validator's messages, which repeat once per alternative
 * ("must be equal to constant", then "must match a schema in anyOf").
 */
export function schemaConfigError(
  errors: readonly SchemaError[],
  properties: Readonly<Record<string, VariableSchema>>,
  values: Readonly<Record<string, string>>,
): ConfigError {
  const names = [...new Set(errors.map((e) => (e.instancePath ?? '').split('/')[1] ?? ''))].filter((n) => n !== '');
  const lines = names.map((name) => {
    const schema = properties[name];
    if (schema === undefined) return `${name} is invalid`;
    // Free-form strings are never echoed: they may be URLs with passwords, or secrets.
    const echoed = schema.enum !== undefined || schema.type === 'integer' || schema.type === 'boolean';
    return `${name} must be ${acceptedValues(schema)}${echoed ? ` (got ${echo(values[name] ?? '')})` : ''}`;
  });
  return new ConfigError(lines.length > 0 ? lines.join('; ') : 'invalid configuration');
}

function acceptedValues(schema: VariableSchema): string {
  if (schema.enum !== undefined) return `one of ${schema.enum.join(', ')}`;
  if (schema.type === 'boolean') return 'true or false';
  if (schema.type === 'integer') {
    const { minimum: min, maximum: max } = schema;
    if (min !== undefined && max !== undefined) return `an integer from ${min} to ${max}`;
    if (min !== undefined) return `an integer of at least ${min}`;
    if (max !== undefined) return `an integer of at most ${max}`;
    return 'an integer';
  }
  return 'a valid value';
}

function echo(value: string): string {
  return JSON.stringify(value.length > MAX_ECHO ? `${value.slice(0, MAX_ECHO)}...` : value);
}
