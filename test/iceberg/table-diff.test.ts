import { describe, expect, it } from 'vitest'
import { diffSchemas, type Schema, specText } from '../../src/iceberg/index.js'

const before: Schema = {
  type: 'struct',
  'schema-id': 0,
  fields: [
    { id: 1, name: 'id', required: true, type: 'int' },
    { id: 2, name: 'amount', required: false, type: 'float' },
    { id: 3, name: 'legacy', required: false, type: 'string' },
    {
      id: 4,
      name: 'address',
      required: false,
      type: { type: 'struct', fields: [{ id: 5, name: 'zip', required: false, type: 'string' }] },
    },
  ],
}

const after: Schema = {
  type: 'struct',
  'schema-id': 1,
  fields: [
    { id: 1, name: 'id', required: true, type: 'long' },
    { id: 2, name: 'fare', required: false, type: 'double' },
    {
      id: 4,
      name: 'address',
      required: false,
      type: { type: 'struct', fields: [{ id: 5, name: 'postcode', required: false, type: 'string' }] },
    },
    { id: 6, name: 'tip', required: false, type: 'decimal(9, 2)' },
  ],
}

describe('comparing two schemas by field id', () => {
  it('names added, dropped, renamed (also nested) and widened fields, never a rename as drop plus add', () => {
    expect(diffSchemas(before, after)).toEqual({
      added: [{ id: 6, name: 'tip', type: 'decimal(9, 2)' }],
      dropped: [{ id: 3, name: 'legacy', type: 'string' }],
      renamed: [
        { id: 2, from: 'amount', to: 'fare' },
        { id: 5, from: 'address.zip', to: 'address.postcode' },
      ],
      widened: [
        { id: 1, name: 'id', from: 'int', to: 'long' },
        { id: 2, name: 'fare', from: 'float', to: 'double' },
      ],
      requiredChanged: [],
    })
  })

  it('finds nothing between a schema and itself', () => {
    expect(diffSchemas(after, after)).toEqual({
      added: [],
      dropped: [],
      renamed: [],
      widened: [],
      requiredChanged: [],
    })
  })

  it('writes a partition spec with the source columns the schema names', () => {
    const spec = {
      'spec-id': 1,
      fields: [
        { 'source-id': 1, 'field-id': 1000, name: 'id_bucket', transform: 'bucket[4]' },
        { 'source-id': 2, 'field-id': 1001, name: 'fare', transform: 'identity' },
      ],
    }
    expect(specText(spec, after)).toEqual(['bucket[4](id)', 'identity(fare)'])
  })
})
