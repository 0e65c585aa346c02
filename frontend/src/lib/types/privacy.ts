// Shapes of the Privacy service's answers: the generated models (models.gen.ts).

export type {
  Breakdown,
  Dashboard as Dash,
  Item,
  Point,
  PurposeState as Purpose,
} from './models.gen'
