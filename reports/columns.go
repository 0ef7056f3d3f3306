package reports

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Machine-readable tables. The HTML and Markdown reports show a table's
// display labels and formatted cells; CSV and Parquet write the same table
// with machine columns: snake_case names with the unit in the name, typed
// values (counts as integers, measures as floats in seconds, US dollars or
// fractions), missing values empty (CSV) or null (Parquet), and a 95%
// interval as two more columns beside its point estimate. Every display
// label maps to one ColumnDef of the registry below, so a machine name has
// one meaning (name, type, unit, description) in every table it appears in,
// and the data dictionary is written from the same definitions.
//
// Conventions: times and durations in seconds (_s), money in US dollars
// (_usd), ratios as fractions 0–1 (_fraction; never percent), HHI on its
// 0–10,000 scale (_hhi), data volumes in GB (_gb) or bytes (_bytes), counts
// as int64 named by what they count.

// ColumnType is a machine column's type.
type ColumnType string

// Machine column types, named as Arrow names them.
const (
	TypeText  ColumnType = "string"
	TypeInt   ColumnType = "int64"
	TypeFloat ColumnType = "float64"
	// TypeDate is a calendar date (YYYY-MM-DD in CSV, DATE in Parquet).
	TypeDate ColumnType = "date32"
)

// UnitPerRow is the unit of a column whose rows hold different statistics:
// the table's unit column gives each row's unit.
const UnitPerRow = "per row (the unit column)"

// Bounds says which bound columns a definition adds.
type Bounds uint8

// Bound columns.
const (
	// NoBounds: one column.
	NoBounds Bounds = iota
	// CI95: the point estimate, then Name_ci95_low and Name_ci95_high,
	// the bounds of its 95% interval (empty when there is none).
	CI95
	// Range: no point value; RangeNames are the two bounds' columns.
	Range
)

// ColumnDef defines a machine column: every table column whose display
// label is one of Labels (in a table of Tables, when set) is written under
// Name with this type, unit and meaning.
type ColumnDef struct {
	Name string
	// Labels are the display labels that map to this column; one ending
	// in "…" matches every label that starts with the rest ("A: …").
	Labels []string
	// Tables, when set, restricts the labels to tables with these IDs:
	// a label that reads clearly in its table ("completed" next to
	// "attempts") can mean different things in different tables.
	Tables []string
	Type   ColumnType
	// Unit is the values' unit: "s", "USD", "fraction", "count", "HHI",
	// "GB", "bytes", …; empty for text and pure numbers.
	Unit string
	// Desc says what a value means, for the data dictionary.
	Desc   string
	Bounds Bounds
	// RangeNames name a Range's low and high columns.
	RangeNames [2]string
	// DisplayOnly columns are shown to people and left out of CSV and
	// Parquet: composite text whose figures are in other tables.
	DisplayOnly bool
}

// Field is one machine column of a table, as CSV and Parquet write it.
type Field struct {
	Name string
	Type ColumnType
	Unit string
	Desc string
	// Label is the display label of the table column it comes from.
	Label string
	// Registered is false for a column whose label has no definition: it
	// is written under the label in snake_case with an inferred type, and
	// a test fails.
	Registered bool
	col        int
	part       fieldPart
}

type fieldPart uint8

const (
	partValue fieldPart = iota
	partLow
	partHigh
)

// fields returns the machine columns of a definition.
func (d *ColumnDef) fields() []Field {
	f := Field{Name: d.Name, Type: d.Type, Unit: d.Unit, Desc: d.Desc, Registered: true}
	switch d.Bounds {
	case CI95:
		lo, hi := f, f
		lo.Name, lo.Desc, lo.part = d.Name+"_ci95_low", "Lower bound of the 95% interval of "+d.Name+" (empty when not defined).", partLow
		hi.Name, hi.Desc, hi.part = d.Name+"_ci95_high", "Upper bound of the 95% interval of "+d.Name+" (empty when not defined).", partHigh
		return []Field{f, lo, hi}
	case Range:
		lo, hi := f, f
		lo.Name, lo.Desc, lo.part = d.RangeNames[0], "Low end of: "+d.Desc, partLow
		hi.Name, hi.Desc, hi.part = d.RangeNames[1], "High end of: "+d.Desc, partHigh
		return []Field{lo, hi}
	}
	return []Field{f}
}

// perRowUnit describes a table's unit column.
const perRowUnitDesc = "Unit of the row's values in the columns whose unit is per row: s (seconds), USD, fraction (0–1), count, or another count's name; empty for a plain number."

// columnDefs is the registry: every table column of every report maps to
// one of these. TestColumnRegistry checks that names are unique, that every
// table of the fixture reports is covered, and that each cell's unit agrees.
var columnDefs = []ColumnDef{
	// Identifiers and text.
	{Name: "strategy", Labels: []string{"strategy"}, Type: TypeText, Desc: "Strategy name (placement and routing policy) from the scenario."},
	{Name: "provider", Labels: []string{"provider"}, Type: TypeText, Desc: "Provider name from the scenario."},
	{Name: "provider_kind", Labels: []string{"provider kind"}, Type: TypeText, Desc: "Provider kind (azure, aws, …): what prices are looked up by."},
	{Name: "layer", Labels: []string{"layer"}, Type: TypeText, Desc: "Stack layer (model, orchestration, application, state, network), or \"all layers\" for a provider's total."},
	{Name: "deployment", Labels: []string{"deployment"}, Type: TypeText, Desc: "Deployment name from the scenario."},
	{Name: "region", Labels: []string{"region"}, Type: TypeText, Desc: "Cloud region."},
	{Name: "model", Labels: []string{"model"}, Type: TypeText, Desc: "Model (or runtime) the deployment serves."},
	{Name: "class", Labels: []string{"class"}, Type: TypeText, Desc: "Traffic class from the scenario's workload."},
	{Name: "latency", Labels: []string{"latency"}, Type: TypeText, Desc: "Which latency the row describes: TTFT (time to first token) or E2E (end to end), both from the intended send time."},
	{Name: "measurement", Labels: []string{"measurement", "check"}, Type: TypeText, Desc: "What the row measures (a load-test timing or a validity check)."},
	{Name: "metric", Labels: []string{"metric"}, Type: TypeText, Desc: "Name of the metric the row describes."},
	{Name: "metric_id", Labels: []string{"id"}, Tables: []string{"twin-metrics"}, Type: TypeText, Desc: "Stable identifier of the twin metric (as in twin.json)."},
	{Name: "statistic", Labels: []string{"statistic"}, Type: TypeText, Desc: "Statistic compared in the row."},
	{Name: "unit", Labels: []string{"unit"}, Type: TypeText, Desc: perRowUnitDesc},
	{Name: "item", Labels: []string{"item"}, Type: TypeText, Desc: "What the row records (run metadata)."},
	{Name: "value", Labels: []string{"value"}, Tables: []string{"run"}, Type: TypeText, Desc: "The item's value, as text."},
	{Name: "simulation_value", Labels: []string{"simulation"}, Tables: []string{"twin-runs"}, Type: TypeText, Desc: "The item's value for the simulation, as text."},
	{Name: "load_test_value", Labels: []string{"load test"}, Tables: []string{"twin-runs"}, Type: TypeText, Desc: "The item's value for the load test, as text."},
	{Name: "run_a_value", Labels: []string{"A"}, Tables: []string{"runs"}, Type: TypeText, Desc: "The item's value for run A, as text."},
	{Name: "run_b_value", Labels: []string{"B"}, Tables: []string{"runs"}, Type: TypeText, Desc: "The item's value for run B, as text."},
	{Name: "significant", Labels: []string{"significant"}, Type: TypeText, Desc: "Whether the 95% interval of the difference excludes 0, and in which direction (yes, better / yes, worse / no (CI spans 0) / no interval)."},
	{Name: "verdict", Labels: []string{"verdict"}, Type: TypeText, Desc: "pass, fail or no tolerance: the relative error against the tolerance."},
	{Name: "within", Labels: []string{"within", "measured in interval"}, Type: TypeText, Desc: "yes or no: whether the value lies within the bound or interval the row names."},
	{Name: "fault", Labels: []string{"fault"}, Type: TypeText, Desc: "The fault: kind, target and affected providers (or start and duration)."},
	{Name: "price", Labels: []string{"price"}, Type: TypeText, Desc: "Price applied, as written with its unit (list price per 1M tokens, per unit-hour, per GB or per GB-month)."},
	{Name: "price_source_url", Labels: []string{"source URL"}, Type: TypeText, Desc: "The provider's own price page or price API the price comes from."},
	{Name: "price_retrieved", Labels: []string{"retrieved"}, Type: TypeDate, Desc: "Date the price was read from its source URL (empty: not yet checked there; mcbench pricing check lists it)."},
	{Name: "price_value_as_of", Labels: []string{"value as of"}, Type: TypeDate, Desc: "Date the price value dates from, when it has not been retrieved from its source URL."},
	{Name: "price_is_estimate", Labels: []string{"estimate"}, Type: TypeText, Desc: "yes when the price is an estimate rather than a published list price."},
	{Name: "price_item", Labels: []string{"item"}, Tables: []string{"transfer-prices"}, Type: TypeText, Desc: "What the price is for: a transfer path and volume tier, a storage service, or an exit regime."},
	{Name: "band_metric", Labels: []string{"metric"}, Tables: []string{"bands"}, Type: TypeText, Desc: "Metric the interpretation bands apply to."},
	{Name: "bands", Labels: []string{"bands"}, Type: TypeText, Desc: "Interpretation bands of the metric."},
	{Name: "basis", Labels: []string{"basis"}, Type: TypeText, Desc: "Legal or professional basis of the bands."},
	{Name: "convention", Labels: []string{"convention?"}, Type: TypeText, Desc: "Whether the bands are an mcbench convention rather than a published threshold."},

	// Requests and their outcomes.
	{Name: "requests", Labels: []string{"requests"}, Type: TypeInt, Unit: "count", Desc: "Measured requests the row covers (warm-up excluded): of the strategy, class or fault window, or with the difference the row names."},
	{Name: "completed_fraction", Labels: []string{"completed"}, Tables: []string{"strategies", "classes"}, Type: TypeFloat, Unit: "fraction", Bounds: CI95, Desc: "Completed requests / measured requests."},
	{Name: "within_slo_fraction", Labels: []string{"within SLO"}, Type: TypeFloat, Unit: "fraction", Bounds: CI95, Desc: "Requests completed within their class's TTFT and E2E objectives / measured requests (classes without an SLO count every completed request)."},
	{Name: "completed_requests", Labels: []string{"completed"}, Tables: []string{"request-outcomes"}, Type: TypeInt, Unit: "count", Desc: "Requests that completed."},
	{Name: "throttled_requests", Labels: []string{"throttled"}, Tables: []string{"request-outcomes"}, Type: TypeInt, Unit: "count", Desc: "Requests that ended throttled (quota)."},
	{Name: "rejected_requests", Labels: []string{"rejected"}, Tables: []string{"request-outcomes"}, Type: TypeInt, Unit: "count", Desc: "Requests that ended rejected (capacity)."},
	{Name: "failed_requests", Labels: []string{"failed"}, Tables: []string{"request-outcomes"}, Type: TypeInt, Unit: "count", Desc: "Requests that ended failed (server error, outage)."},
	{Name: "timed_out_requests", Labels: []string{"timed out"}, Tables: []string{"request-outcomes"}, Type: TypeInt, Unit: "count", Desc: "Requests that ended timed out."},
	{Name: "client_error_requests", Labels: []string{"client error"}, Tables: []string{"request-outcomes"}, Type: TypeInt, Unit: "count", Desc: "Requests that ended with a client error."},
	{Name: "attempts_per_request", Labels: []string{"attempts / request"}, Type: TypeFloat, Unit: "attempts/request", Desc: "Attempts (first tries, retries and failovers) per measured request."},
	{Name: "completed_after_retry_requests", Labels: []string{"completed after a retry"}, Type: TypeInt, Unit: "count", Desc: "Requests that completed on a later attempt at the same deployment."},
	{Name: "completed_by_failover_requests", Labels: []string{"completed by failover"}, Type: TypeInt, Unit: "count", Desc: "Requests that completed at another deployment than their first attempt's."},
	{Name: "attempts", Labels: []string{"attempts"}, Type: TypeInt, Unit: "count", Desc: "Attempts sent to the deployment."},
	{Name: "completed_attempts", Labels: []string{"completed"}, Tables: []string{"deployments"}, Type: TypeInt, Unit: "count", Desc: "Attempts at the deployment that completed."},
	{Name: "throttled_attempts", Labels: []string{"throttled"}, Tables: []string{"deployments"}, Type: TypeInt, Unit: "count", Desc: "Attempts at the deployment that were throttled (quota)."},
	{Name: "rejected_attempts", Labels: []string{"rejected"}, Tables: []string{"deployments"}, Type: TypeInt, Unit: "count", Desc: "Attempts at the deployment that were rejected (capacity)."},
	{Name: "failed_attempts", Labels: []string{"failed"}, Tables: []string{"deployments"}, Type: TypeInt, Unit: "count", Desc: "Attempts at the deployment that failed."},
	{Name: "timed_out_attempts", Labels: []string{"timed out"}, Tables: []string{"deployments"}, Type: TypeInt, Unit: "count", Desc: "Attempts at the deployment that timed out."},
	{Name: "replications", Labels: []string{"replications"}, Type: TypeInt, Unit: "count", Desc: "Replications the interval is built from."},
	{Name: "request_id", Labels: []string{"request"}, Tables: []string{"twin-differing-requests"}, Type: TypeInt, Unit: "id", Desc: "Request ID (as in outcomes.csv)."},
	{Name: "outcome_difference", Labels: []string{"difference"}, Tables: []string{"twin-outcome-differences"}, Type: TypeText, Desc: "How a request's outcome differs between the simulation and the load test."},
	{Name: "differs", Labels: []string{"differs"}, Type: TypeText, Desc: "What differs for the request: status, deployment, attempts."},
	{Name: "predicted_outcome", Labels: []string{"predicted"}, Tables: []string{"twin-differing-requests"}, Type: TypeText, Desc: "The request's outcome in the simulation."},
	{Name: "measured_outcome", Labels: []string{"measured"}, Tables: []string{"twin-differing-requests"}, Type: TypeText, Desc: "The request's outcome in the load test."},

	// Latency and throughput.
	{Name: "ttft_p50_s", Labels: []string{"TTFT p50"}, Type: TypeFloat, Unit: "s", Desc: "Median time to first token, from the intended send time, over completed requests."},
	{Name: "ttft_p99_s", Labels: []string{"TTFT p99"}, Type: TypeFloat, Unit: "s", Bounds: CI95, Desc: "99th percentile of time to first token (merged histogram); the interval is over per-replication p99s."},
	{Name: "e2e_p99_s", Labels: []string{"E2E p99"}, Type: TypeFloat, Unit: "s", Bounds: CI95, Desc: "99th percentile of end-to-end latency (intended send to last token, merged histogram); the interval is over per-replication p99s."},
	{Name: "throughput_req_per_s", Labels: []string{"throughput (req/s)"}, Type: TypeFloat, Unit: "req/s", Bounds: CI95, Desc: "Completed requests per second of the measured window, mean over replications."},
	{Name: "mean_s", Labels: []string{"mean"}, Type: TypeFloat, Unit: "s", Bounds: CI95, Desc: "Mean of the latency or timing the row names (residuals: measured − predicted)."},
	{Name: "median_s", Labels: []string{"median"}, Type: TypeFloat, Unit: "s", Desc: "Median of the row's residuals (measured − predicted)."},
	{Name: "p1_s", Labels: []string{"p1"}, Type: TypeFloat, Unit: "s", Desc: "1st percentile of the row's residuals (measured − predicted)."},
	{Name: "p50_s", Labels: []string{"p50"}, Type: TypeFloat, Unit: "s", Desc: "Median of the latency or timing the row names."},
	{Name: "p90_s", Labels: []string{"p90"}, Type: TypeFloat, Unit: "s", Desc: "90th percentile of the latency or timing the row names."},
	{Name: "p99_s", Labels: []string{"p99"}, Type: TypeFloat, Unit: "s", Bounds: CI95, Desc: "99th percentile of the latency, timing, residual or lag the row names."},
	{Name: "max_s", Labels: []string{"max"}, Type: TypeFloat, Unit: "s", Desc: "Maximum of the latency, timing or lag the row names."},
	{Name: "max_abs_residual_s", Labels: []string{"max |residual|"}, Type: TypeFloat, Unit: "s", Desc: "Largest absolute residual (measured − predicted)."},
	{Name: "bound_s", Labels: []string{"bound"}, Type: TypeFloat, Unit: "s", Desc: "Bound the check's p99 must stay within (empty: none, or a count check)."},
	{Name: "slo_ttft_s", Labels: []string{"SLO TTFT"}, Type: TypeFloat, Unit: "s", Desc: "The class's time-to-first-token objective (empty: none)."},
	{Name: "slo_e2e_s", Labels: []string{"SLO E2E"}, Type: TypeFloat, Unit: "s", Desc: "The class's end-to-end objective (empty: none)."},

	// Cost.
	{Name: "cost_per_successful_request_usd", Labels: []string{"cost / successful request"}, Type: TypeFloat, Unit: "USD", Bounds: CI95, Desc: "Total spend / completed requests, at list prices: the cost headline (failed requests cost nothing, so per request a failing strategy would look cheaper); the interval is over the replications' ratios."},
	{Name: "cost_per_million_tokens_usd", Labels: []string{"cost / 1M tokens"}, Type: TypeFloat, Unit: "USD", Desc: "Total spend / billed tokens × 10⁶."},
	{Name: "cost_per_slo_met_request_usd", Labels: []string{"cost / SLO-met request"}, Type: TypeFloat, Unit: "USD", Desc: "Total spend / requests completed within their class's objectives (goodput)."},
	{Name: "cost_per_replication_usd", Labels: []string{"cost / replication"}, Type: TypeFloat, Unit: "USD", Bounds: CI95, Desc: "Total spend of one replication's measured window, mean over replications."},
	{Name: "token_spend_usd", Labels: []string{"tokens", "token spend", "token cost"}, Type: TypeFloat, Unit: "USD", Desc: "Pay-as-you-go spend on billed tokens (of the strategy, deployment or fault window the row names)."},
	{Name: "provisioned_spend_usd", Labels: []string{"provisioned units", "unit spend"}, Type: TypeFloat, Unit: "USD", Desc: "Spend on provisioned units (Azure PTU, Bedrock model units), billed per increment."},
	{Name: "transfer_spend_usd", Labels: []string{"data transfer"}, Type: TypeFloat, Unit: "USD", Desc: "Data-transfer spend (egress, inter-region and inter-cloud)."},
	{Name: "storage_spend_usd", Labels: []string{"state storage"}, Type: TypeFloat, Unit: "USD", Desc: "State-storage spend for the measured window."},
	{Name: "total_spend_usd", Labels: []string{"total"}, Type: TypeFloat, Unit: "USD", Desc: "Total spend, summed over replications."},
	{Name: "spend_per_traffic_hour_usd", Labels: []string{"per hour of traffic"}, Type: TypeFloat, Unit: "USD/h", Desc: "Total spend per hour of measured traffic."},
	{Name: "billed_input_tokens", Labels: []string{"billed input tokens"}, Type: TypeInt, Unit: "count", Desc: "Input tokens billed (attempts that produced tokens)."},
	{Name: "billed_output_tokens", Labels: []string{"billed output tokens"}, Type: TypeInt, Unit: "count", Desc: "Output tokens billed (delivered)."},
	{Name: "spend_usd", Labels: []string{"spend"}, Type: TypeFloat, Unit: "USD", Desc: "Spend of the row (provider and layer, transfer path, or provisioned deployment), summed over replications."},
	{Name: "strategy_spend_share_fraction", Labels: []string{"share of strategy spend"}, Type: TypeFloat, Unit: "fraction", Desc: "The row's spend / the strategy's total spend."},
	{Name: "paid_by", Labels: []string{"paid by"}, Type: TypeText, Desc: "Provider that charges the transfer (the one the bytes leave)."},
	{Name: "transfer_path", Labels: []string{"path"}, Type: TypeText, Desc: "Transfer path (internet, inter-region, inter-cloud)."},
	{Name: "bytes_source", Labels: []string{"source"}, Tables: []string{"transfer"}, Type: TypeText, Desc: "Where the bytes come from: estimated client payloads or recorded cross-cloud bytes."},
	{Name: "volume_gb", Labels: []string{"volume"}, Type: TypeFloat, Unit: "GB", Desc: "Data volume transferred, summed over replications."},
	{Name: "price_usd_per_gb", Labels: []string{"USD/GB (monthly tiers)"}, Type: TypeFloat, Unit: "USD/GB", Desc: "Average price per GB after monthly volume tiers."},
	{Name: "capacity_unit", Labels: []string{"unit"}, Tables: []string{"provisioned"}, Type: TypeText, Desc: "Provisioned capacity unit (PTU, model unit)."},
	{Name: "capacity_units", Labels: []string{"units"}, Type: TypeFloat, Unit: "units", Desc: "Provisioned units of the deployment."},
	{Name: "billing_increment_s", Labels: []string{"billing increment"}, Type: TypeFloat, Unit: "s", Desc: "Billing increment of the provisioned units (a started increment is billed whole)."},
	{Name: "billed_unit_hours_per_unit", Labels: []string{"billed unit-hours per unit"}, Type: TypeFloat, Unit: "h", Desc: "Billed hours per provisioned unit, summed over replications."},
	{Name: "commitment", Labels: []string{"commitment"}, Type: TypeText, Desc: "Commitment term of the provisioned units (listed, not charged over a simulated window)."},

	// Paired and side-by-side comparisons (one statistic per row).
	{Name: "baseline_value", Labels: []string{"baseline"}, Type: TypeFloat, Unit: UnitPerRow, Desc: "The statistic's value for the baseline strategy."},
	{Name: "strategy_value", Labels: []string{"strategy value"}, Type: TypeFloat, Unit: UnitPerRow, Desc: "The statistic's value for the strategy."},
	{Name: "difference_vs_baseline", Labels: []string{"difference [95% CI]"}, Type: TypeFloat, Unit: UnitPerRow, Bounds: CI95, Desc: "Strategy − baseline, mean of the paired per-replication differences."},
	{Name: "a_value", Labels: []string{"A", "A: …"}, Tables: []string{"side-by-side", "differences"}, Type: TypeFloat, Unit: UnitPerRow, Bounds: CI95, Desc: "The statistic's value in run A."},
	{Name: "b_value", Labels: []string{"B", "B: …"}, Tables: []string{"side-by-side", "differences"}, Type: TypeFloat, Unit: UnitPerRow, Bounds: CI95, Desc: "The statistic's value in run B."},
	{Name: "b_minus_a", Labels: []string{"B − A [95% CI]"}, Type: TypeFloat, Unit: UnitPerRow, Bounds: CI95, Desc: "B − A: the mean difference (paired per replication, or Welch)."},
	{Name: "predicted_value", Labels: []string{"predicted"}, Tables: []string{"twin-metrics"}, Type: TypeFloat, Unit: UnitPerRow, Desc: "The metric in the simulation's replication 0."},
	{Name: "predicted_mean", Labels: []string{"95% interval (replications)"}, Type: TypeFloat, Unit: UnitPerRow, Bounds: Range,
		RangeNames: [2]string{"predicted_mean_ci95_low", "predicted_mean_ci95_high"}, Desc: "the 95% interval of the metric's mean over the simulation's replications."},
	{Name: "measured_value", Labels: []string{"measured"}, Tables: []string{"twin-metrics"}, Type: TypeFloat, Unit: UnitPerRow, Desc: "The metric in the load test."},
	{Name: "relative_error_fraction", Labels: []string{"error"}, Type: TypeFloat, Unit: "fraction", Desc: "(measured − predicted) / predicted."},
	{Name: "tolerance_fraction", Labels: []string{"tolerance"}, Type: TypeFloat, Unit: "fraction", Desc: "Largest |relative error| that passes (empty: no tolerance)."},

	// Sessions.
	{Name: "sessions", Labels: []string{"sessions"}, Type: TypeInt, Unit: "count", Desc: "Agentic sessions the row covers."},
	{Name: "completed_sessions_fraction", Labels: []string{"completed"}, Tables: []string{"sessions"}, Type: TypeFloat, Unit: "fraction", Desc: "Completed sessions / sessions."},
	{Name: "session_latency_mean_s", Labels: []string{"latency mean"}, Type: TypeFloat, Unit: "s", Desc: "Mean session latency (first arrival to last answer)."},
	{Name: "session_latency_p99_s", Labels: []string{"latency p99"}, Type: TypeFloat, Unit: "s", Desc: "99th percentile of session latency."},
	{Name: "within_session_slo_fraction", Labels: []string{"within session SLO"}, Type: TypeFloat, Unit: "fraction", Desc: "Sessions completed within the session objective / sessions."},
	{Name: "steps_per_session", Labels: []string{"steps"}, Type: TypeFloat, Unit: "steps/session", Desc: "Mean steps (model calls) per session."},
	{Name: "retries_per_session", Labels: []string{"retries / session"}, Type: TypeFloat, Unit: "retries/session", Desc: "Mean retries per session."},
	{Name: "orchestrator_failovers_per_session", Labels: []string{"orchestrator failovers / session"}, Type: TypeFloat, Unit: "failovers/session", Desc: "Mean orchestrator failovers per session."},
	{Name: "cross_region_bytes_per_session", Labels: []string{"cross-region bytes / session"}, Type: TypeFloat, Unit: "bytes", Desc: "Mean bytes per session crossing a region boundary."},
	{Name: "cross_cloud_bytes_per_session", Labels: []string{"cross-cloud bytes / session"}, Type: TypeFloat, Unit: "bytes", Desc: "Mean bytes per session crossing a cloud boundary."},
	{Name: "state_bytes_per_session", Labels: []string{"state bytes / session"}, Type: TypeFloat, Unit: "bytes", Desc: "Mean state bytes read and written per session."},

	// Concentration.
	{Name: "capable_providers", Labels: []string{"capable providers n"}, Type: TypeInt, Unit: "count", Desc: "Providers able to serve the layer in the scenario (empty for the network layer)."},
	{Name: "placed_providers", Labels: []string{"placed"}, Type: TypeInt, Unit: "count", Desc: "Providers the strategy places the layer on."},
	{Name: "traffic_shares_text", Labels: []string{"traffic shares (requests)"}, Type: TypeText, DisplayOnly: true, Desc: "Display only: each provider's share of the layer's completed attempts; the counts per deployment are in deployments."},
	{Name: "spend_shares_text", Labels: []string{"spend shares"}, Type: TypeText, DisplayOnly: true, Desc: "Display only: each provider's share of the layer's spend; the spend per provider and layer is in cost-by-provider-layer."},
	{Name: "spend_hhi", Labels: []string{"spend HHI"}, Type: TypeFloat, Unit: "HHI", Desc: "Herfindahl–Hirschman index of the layer's spend shares (percent shares, 0–10,000)."},
	{Name: "spend_hhi_spread", Labels: []string{"spend HHI p5–p95 over replications"}, Type: TypeFloat, Unit: "HHI", Bounds: Range,
		RangeNames: [2]string{"spend_hhi_p5", "spend_hhi_p95"}, Desc: "the 5th–95th percentile range of the layer's spend HHI over replications."},
	{Name: "traffic_hhi", Labels: []string{"traffic HHI"}, Type: TypeFloat, Unit: "HHI", Bounds: CI95, Desc: "HHI of the layer's traffic shares (completed attempts per provider, 0–10,000): the concentration headline; the interval is over the replications' HHIs."},
	{Name: "token_hhi", Labels: []string{"token HHI"}, Type: TypeFloat, Unit: "HHI", Desc: "HHI of the layer's billed-token shares (input + output tokens per provider)."},
	{Name: "traffic_hhi_normalised", Labels: []string{"H* by traffic"}, Type: TypeFloat, Unit: "index 0–1", Desc: "(HHI − 10⁴/n)/(10⁴ − 10⁴/n) of the traffic HHI over the n capable providers: 0 balanced, 1 single-sourced (empty when n is not defined)."},
	{Name: "layer_spend_share_fraction", Labels: []string{"layer share of spend"}, Type: TypeFloat, Unit: "fraction", Desc: "The layer's spend / the strategy's total spend; below 0.01 the layer is listed without a band."},
	{Name: "cr1_fraction", Labels: []string{"CR1"}, Type: TypeFloat, Unit: "fraction", Desc: "Largest provider share of the layer (traffic; spend for the network layer)."},
	{Name: "effective_providers", Labels: []string{"effective providers"}, Type: TypeFloat, Unit: "providers", Desc: "10⁴ / HHI: the number of equal providers with the same HHI."},
	{Name: "delta_traffic_hhi_vs_baseline", Labels: []string{"Δ traffic HHI vs …"}, Type: TypeFloat, Unit: "HHI", Desc: "Traffic HHI − the baseline strategy's traffic HHI for the layer (empty for the baseline itself)."},
	{Name: "us_2023_band", Labels: []string{"US 2023 band"}, Type: TypeText, Desc: "Band of the US Merger Guidelines 2023, applied by analogy."},
	{Name: "eu_screen", Labels: []string{"EU screen"}, Type: TypeText, Desc: "Result of the EU Horizontal Merger Guidelines screen, applied by analogy."},
	{Name: "total_spend_hhi", Labels: []string{"HHI of total spend"}, Type: TypeFloat, Unit: "HHI", Desc: "HHI of providers' shares of the strategy's total spend."},
	{Name: "spend_weighted_layer_hhi", Labels: []string{"spend-weighted layer HHI"}, Type: TypeFloat, Unit: "HHI", Desc: "Σ over layers of the layer's spend share × its HHI."},
	{Name: "largest_layer_hhi", Labels: []string{"largest layer HHI"}, Type: TypeFloat, Unit: "HHI", Desc: "Largest layer HHI of the strategy."},
	{Name: "exclusivity_fraction", Labels: []string{"exclusivity X (no capable alternative)"}, Type: TypeFloat, Unit: "fraction", Desc: "Traffic in layers only one provider can serve in the scenario / all traffic."},
	{Name: "single_provider_placement_fraction", Labels: []string{"single-provider placement"}, Type: TypeFloat, Unit: "fraction", Desc: "Traffic in layers this strategy places on one provider / all traffic."},
	{Name: "state_hhi", Labels: []string{"state HHI"}, Type: TypeFloat, Unit: "HHI", Desc: "HHI of stored state by provider (needs --state)."},
	{Name: "providers_in_multiple_layers", Labels: []string{"providers in ≥2 layers"}, Type: TypeText, Desc: "Providers serving two or more layers, comma-separated."},

	// Lock-in.
	{Name: "traffic_served_attempts", Labels: []string{"traffic served"}, Type: TypeInt, Unit: "count", Desc: "Completed attempts the provider served."},
	{Name: "portability_index", Labels: []string{"portability index PI"}, Type: TypeFloat, Unit: "index 0–1", Desc: "PI_p = Σ_l Q_{p,l}·φ / Σ_l Q_{p,l}: 1 every layer has a tested alternative, 0 none has any."},
	{Name: "portability_band", Labels: []string{"band"}, Tables: []string{"portability"}, Type: TypeText, Desc: "Band of the provider's portability index (portable, partial, locked)."},
	{Name: "strategy_portability_index", Labels: []string{"strategy PI"}, Type: TypeFloat, Unit: "index 0–1", Desc: "Portability index of the strategy as a whole."},
	{Name: "cross_cloud_transfer_spend_usd", Labels: []string{"cross-cloud transfer spend"}, Type: TypeFloat, Unit: "USD", Desc: "Inter-cloud data-transfer spend of the strategy."},
	{Name: "multi_cloud_tax_fraction", Labels: []string{"multi-cloud tax MT"}, Type: TypeFloat, Unit: "fraction", Desc: "Inter-cloud transfer spend / total spend."},
	{Name: "case", Labels: []string{"case"}, Type: TypeText, Desc: "Which case the row is: \"reference\" for a worked example at a reference volume."},
	{Name: "state_to_move_gb", Labels: []string{"state to move"}, Type: TypeFloat, Unit: "GB", Desc: "State that leaves the provider on exit."},
	{Name: "regenerable_state_gb", Labels: []string{"regenerable (not moved)"}, Type: TypeFloat, Unit: "GB", Desc: "State that can be regenerated rather than moved."},
	{Name: "exit_egress_list_usd", Labels: []string{"egress at list"}, Type: TypeFloat, Unit: "USD", Desc: "Exit egress at list prices."},
	{Name: "exit_egress_waiver_usd", Labels: []string{"with the 2024 exit waiver"}, Type: TypeFloat, Unit: "USD", Desc: "Exit egress under the provider's 2024 exit waiver (empty: no programme)."},
	{Name: "exit_egress_eu_until_2027_max_usd", Labels: []string{"EU Data Act until 11 Jan 2027"}, Type: TypeFloat, Unit: "USD", Desc: "Ceiling of the exit charge under the EU Data Act until 11 Jan 2027 (direct cost; the list price)."},
	{Name: "exit_egress_eu_from_2027_usd", Labels: []string{"EU Data Act from 12 Jan 2027"}, Type: TypeFloat, Unit: "USD", Desc: "Exit charge under the EU Data Act from 12 Jan 2027."},
	{Name: "exit_data_transfer_time_s", Labels: []string{"data transfer time"}, Type: TypeFloat, Unit: "s", Desc: "Time to move the state: 8·B/(β·BW)."},
	{Name: "exit_time_s", Labels: []string{"exit time"}, Type: TypeFloat, Unit: "s", Desc: "Notice + max(data transfer, re-engineering) + cut-over."},
	{Name: "data_act_band", Labels: []string{"Data Act band"}, Type: TypeText, Desc: "Exit time against the EU Data Act Art 25 transition."},

	// Resilience.
	{Name: "availability_fraction", Labels: []string{"availability A"}, Type: TypeFloat, Unit: "fraction", Bounds: CI95, Desc: "Completed requests / measured requests, mean over replications."},
	{Name: "nines", Labels: []string{"nines"}, Type: TypeFloat, Unit: "nines", Desc: "−log10(1 − availability) (empty when availability is 1)."},
	{Name: "error_budget_used_fraction", Labels: []string{"error budget used"}, Type: TypeFloat, Unit: "fraction", Desc: "(1 − availability)/(1 − objective): above 1 the objective is missed."},
	{Name: "slo_attainment_fraction", Labels: []string{"SLO attainment"}, Type: TypeFloat, Unit: "fraction", Desc: "Requests completed within their objectives / measured requests."},
	{Name: "attainment_budget_used_fraction", Labels: []string{"attainment budget used"}, Type: TypeFloat, Unit: "fraction", Desc: "(1 − SLO attainment)/(1 − objective)."},
	{Name: "window", Labels: []string{"window"}, Type: TypeFloat, Unit: "s", Bounds: Range, RangeNames: [2]string{"window_start_s", "window_end_s"},
		Desc: "the fault window, in seconds from the start of the run."},
	{Name: "slo_breach_fraction", Labels: []string{"SLO breaches"}, Type: TypeFloat, Unit: "fraction", Desc: "Requests in the window that breached their SLO (or failed) / requests in the window."},
	{Name: "baseline_slo_breach_fraction", Labels: []string{"baseline breach rate"}, Type: TypeFloat, Unit: "fraction", Desc: "SLO-breach share of requests outside every fault window."},
	{Name: "exposed_fraction", Labels: []string{"exposed share π"}, Type: TypeFloat, Unit: "fraction", Desc: "Share of requests outside every fault window whose first attempt went to what the fault hits."},
	{Name: "failover_coverage_fraction", Labels: []string{"failover coverage FC"}, Type: TypeFloat, Unit: "fraction", Desc: "1 − excess breaches / (π × requests in the window) (outages only)."},
	{Name: "blast_radius_fraction", Labels: []string{"blast radius BR"}, Type: TypeFloat, Unit: "fraction", Desc: "Excess breaches / requests in the window (outages only)."},
	{Name: "time_to_failover_s", Labels: []string{"time to fail over"}, Type: TypeFloat, Unit: "s", Desc: "From the fault's start until traffic is served elsewhere (empty: not within the window)."},
	{Name: "time_to_recover_s", Labels: []string{"time to recover"}, Type: TypeFloat, Unit: "s", Desc: "From the fault's start until the breach rate is back near the baseline."},
	{Name: "failed_fraction", Labels: []string{"failed"}, Tables: []string{"fault-windows"}, Type: TypeFloat, Unit: "fraction", Desc: "Requests in the window that failed / requests in the window."},
	{Name: "extra_e2e_s", Labels: []string{"extra E2E"}, Type: TypeFloat, Unit: "s", Desc: "Mean end-to-end latency in the window minus the same requests' in the fault-free run."},
	{Name: "extra_cost_usd", Labels: []string{"extra cost"}, Type: TypeFloat, Unit: "USD", Desc: "Token spend in the window minus the same requests' in the fault-free run, mean per replication."},
	{Name: "failed_sessions_fraction", Labels: []string{"sessions failed"}, Type: TypeFloat, Unit: "fraction", Desc: "Sessions in the window that failed / sessions in the window."},
	{Name: "primary_share_fraction", Labels: []string{"primary share"}, Type: TypeFloat, Unit: "fraction", Desc: "Share of requests whose first attempt goes to the provider."},
	{Name: "static_blast_radius_fraction", Labels: []string{"static blast radius"}, Type: TypeFloat, Unit: "fraction", Desc: "Share of traffic lost with the provider by placement alone (capacity ignored)."},
	{Name: "static_coverage_fraction", Labels: []string{"static coverage"}, Type: TypeFloat, Unit: "fraction", Desc: "Share of the provider's primary traffic with an alternative by placement."},
	{Name: "observed_coverage_fraction", Labels: []string{"observed coverage"}, Type: TypeFloat, Unit: "fraction", Desc: "Failover coverage in the worst outage of the run that hits the provider."},
	{Name: "observed_blast_radius_fraction", Labels: []string{"observed blast radius"}, Type: TypeFloat, Unit: "fraction", Desc: "Blast radius in the worst outage of the run that hits the provider."},
	{Name: "substitutability", Labels: []string{"substitutability"}, Type: TypeText, Desc: "Band of failover coverage (substitutable, partial, not easily substitutable)."},
	{Name: "layers_served", Labels: []string{"layers served"}, Type: TypeInt, Unit: "count", Desc: "Layers the provider serves in the strategy."},
}

// registry indexes columnDefs by label.
type registry struct {
	exact  map[string][]*ColumnDef
	prefix []*ColumnDef
}

var columnRegistry = newRegistry(columnDefs)

func newRegistry(defs []ColumnDef) *registry {
	r := &registry{exact: map[string][]*ColumnDef{}}
	for i := range defs {
		d := &defs[i]
		for _, l := range d.Labels {
			if strings.HasSuffix(l, "…") {
				r.prefix = append(r.prefix, d)
				continue
			}
			r.exact[l] = append(r.exact[l], d)
		}
	}
	return r
}

// lookup returns the definition of a table's column: one restricted to
// the table first, else one for any table; nil when there is none or the
// label is ambiguous.
func (r *registry) lookup(table, label string) *ColumnDef {
	cands := r.exact[label]
	for _, d := range r.prefix {
		for _, l := range d.Labels {
			if p, ok := strings.CutSuffix(l, "…"); ok && strings.HasPrefix(label, p) {
				cands = append(cands, d)
			}
		}
	}
	var scoped, any []*ColumnDef
	for _, d := range cands {
		switch {
		case len(d.Tables) == 0:
			any = append(any, d)
		case slices.Contains(d.Tables, table):
			scoped = append(scoped, d)
		}
	}
	if len(scoped) == 1 {
		return scoped[0]
	}
	if len(scoped) == 0 && len(any) == 1 {
		return any[0]
	}
	return nil
}

// Fields returns the table's machine columns, in order: each column's
// definition's fields (none for a display-only column). A column whose
// label has no definition is written under its label in snake_case, typed
// by its cells, with Registered false.
func (t *Table) Fields() []Field {
	var out []Field
	used := map[string]bool{}
	for i, label := range t.Columns {
		d := columnRegistry.lookup(t.ID, label)
		registered := d != nil
		if !registered {
			d = &ColumnDef{Name: snakeCase(label), Type: t.inferType(i), Desc: "Not registered: " + label}
			if d.Name == "" {
				d.Name = "column_" + strconv.Itoa(i+1)
			}
			for n := 2; used[d.Name]; n++ {
				d.Name = snakeCase(label) + "_" + strconv.Itoa(n)
			}
		}
		if d.DisplayOnly {
			continue
		}
		for _, f := range d.fields() {
			f.col, f.Label = i, label
			f.Registered = registered
			used[f.Name] = true
			out = append(out, f)
		}
	}
	return out
}

// inferType types an unregistered column by its cells.
func (t *Table) inferType(col int) ColumnType {
	typ := TypeInt
	for _, r := range t.Rows {
		if col >= len(r) {
			continue
		}
		switch r[col].Val.Kind {
		case ValText:
			if s := r[col].Text; s != "" && s != "-" {
				return TypeText
			}
		case ValFloat:
			typ = TypeFloat
		}
	}
	return typ
}

// machine returns the value a field writes for a cell: nil (missing),
// int64, float64 or string (a date as YYYY-MM-DD). Text in a numeric
// column is a placeholder ("n/a", "-"): missing. A number in a text column
// is written in full precision, not as formatted.
func (f *Field) machine(c Cell) any {
	v := c.Val
	if f.part != partValue {
		if v.Kind == ValText || !v.Bounded {
			return nil
		}
		x := v.Lo
		if f.part == partHigh {
			x = v.Hi
		}
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return x
	}
	switch f.Type {
	case TypeInt:
		switch v.Kind {
		case ValInt:
			return v.I
		case ValFloat:
			if v.F == math.Trunc(v.F) && math.Abs(v.F) < 1<<53 {
				return int64(v.F)
			}
		}
	case TypeFloat:
		switch v.Kind {
		case ValInt:
			return float64(v.I)
		case ValFloat:
			if !math.IsNaN(v.F) && !math.IsInf(v.F, 0) {
				return v.F
			}
		}
	case TypeDate:
		if v.Kind == ValText {
			if _, err := time.Parse(time.DateOnly, c.Text); err == nil {
				return c.Text
			}
		}
	default:
		switch v.Kind {
		case ValText:
			if c.Text != "" && c.Text != "-" {
				return c.Text
			}
		case ValInt:
			return strconv.FormatInt(v.I, 10)
		case ValFloat:
			if !math.IsNaN(v.F) {
				return formatFloat(v.F)
			}
		}
	}
	return nil
}

// formatFloat writes a float so every reader types it as one: shortest
// round-trip digits, always with a decimal point or an exponent (12.0, not
// 12, which a reader inferring from the first rows would take for an int).
func formatFloat(x float64) string {
	a := math.Abs(x)
	var s string
	if a == 0 || (a >= 1e-6 && a < 1e15) {
		s = strconv.FormatFloat(x, 'f', -1, 64)
	} else {
		s = strconv.FormatFloat(x, 'e', -1, 64)
	}
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// DictionaryFile is the data dictionary's file name in the csv/ and
// parquet/ folders of a report.
const DictionaryFile = "DICTIONARY.md"

// DictionaryID is the ID of the data dictionary's table.
const DictionaryID = "data-dictionary"

// DictionaryEntry is one machine column of a document: its definition and
// the tables that have it.
type DictionaryEntry struct {
	Name, Type, Unit, Meaning string
	// Labels are the display labels it is shown under.
	Labels []string
	Tables []string
}

// Dictionary describes every machine column of the document's tables, in
// the order they first appear.
func (d *Document) Dictionary() []DictionaryEntry {
	var out []DictionaryEntry
	at := map[string]int{}
	for _, t := range d.Tables() {
		for _, f := range t.Fields() {
			i, ok := at[f.Name]
			if !ok {
				i = len(out)
				at[f.Name] = i
				out = append(out, DictionaryEntry{Name: f.Name, Type: string(f.Type), Unit: f.Unit, Meaning: f.Desc})
			}
			e := &out[i]
			if !slices.Contains(e.Labels, f.Label) {
				e.Labels = append(e.Labels, f.Label)
			}
			if !slices.Contains(e.Tables, t.ID) {
				e.Tables = append(e.Tables, t.ID)
			}
		}
	}
	return out
}

// DictionaryTable is the data dictionary as a table (for the HTML and
// Markdown appendix).
func (d *Document) DictionaryTable() *Table {
	t := &Table{ID: DictionaryID, Title: "Data dictionary: the columns of the CSV and Parquet tables",
		Columns: []string{"column", "type", "unit", "meaning", "tables"}}
	for _, e := range d.Dictionary() {
		t.row(txt(e.Name), txt(e.Type), txt(e.Unit), txt(e.Meaning), txt(strings.Join(e.Tables, ", ")))
	}
	t.Notes = []string{dictionaryConventions}
	return t
}

const dictionaryConventions = "Conventions: one name means one thing in every table. Times and durations in seconds (_s), money in US dollars (_usd, list prices), ratios as fractions 0–1 (_fraction, never percent), HHI on the 0–10,000 scale (_hhi), volumes in GB or bytes, counts as integers. A missing value (undefined, not applicable, none) is an empty CSV field and a Parquet null. A 95% interval is two columns beside its point estimate (_ci95_low, _ci95_high). Columns whose unit is per row take it from the row's unit column. Text that starts with = + - @ is prefixed with ' in CSV so spreadsheets do not run it; numbers never are."

// WriteDictionary writes the data dictionary as Markdown.
func WriteDictionary(w io.Writer, d *Document) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Data dictionary: %s\n\n%s\n\n", mdEscape(d.Title), mdEscape(dictionaryConventions))
	b.WriteString("| column | type | unit | meaning | tables |\n| --- | --- | --- | --- | --- |\n")
	for _, e := range d.Dictionary() {
		// Machine names are [a-z0-9_]: a code span needs no escaping.
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s |\n", e.Name, e.Type, mdCell(e.Unit), mdCell(e.Meaning), mdCell(strings.Join(e.Tables, ", ")))
	}
	b.WriteString("\nEach table's display labels (HTML and Markdown report) map to these columns:\n\n")
	for _, t := range d.Tables() {
		fmt.Fprintf(&b, "- %s (%s.csv, %s.parquet):", mdEscape(t.Title), t.ID, t.ID)
		sep := " "
		for _, f := range t.Fields() {
			fmt.Fprintf(&b, "%s`%s` ← %s", sep, f.Name, mdCell(f.Label))
			sep = "; "
		}
		b.WriteString("\n")
	}
	_, err := w.Write([]byte(b.String()))
	return err
}
