import { expect, test } from 'vitest'
import { FULL_BOUND } from '../../spec/checker/bound.js'
import { BAD_VARIANTS } from '../../spec/model/variants.js'
import { collectFigures, renderFigures } from '../../spec/report.js'

test('the report lists the figures of each bound and a counterexample for each bad variant', () => {
  const text = renderFigures(
    collectFigures({ SMALL: { ...FULL_BOUND, depth: 2 } }, FULL_BOUND, { walks: 10, length: 5, seed: 1 }),
  )
  expect(text).toMatch(/\| SMALL \| 3 tables, 3 user branches/)
  expect(text).toContain('Total: ')
  expect(text).toContain(', 0 violations.')
  expect(text).toMatch(/Random walks .*: 10 walks of 5 operations/)
  for (const bad of BAD_VARIANTS) expect(text).toContain(`**${bad.name}**`)
  expect(text).not.toContain('NO COUNTEREXAMPLE FOUND')
}, 60_000)
