// Row shapes of the API, taken from the queries package (types only: nothing of it is bundled).
export type {
  CostPerPrRow,
  CostByRow,
  WasteRow,
  UnpricedRow,
  AlertReportRow,
  MergedPrCostRow,
  PrOutcomeRow,
  FirstPassRow,
  DashboardSummary,
  DashboardFilterValues,
  SeriesPoint,
  WasteSeriesPoint,
  PrSessionRow,
  SessionSpanRow,
} from '../../../queries/src/index.ts';
