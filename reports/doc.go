// Package reports turns a run directory (written by `mcbench sim --out` or
// `mcbench load --out`) into numbers and documents: latency, cost,
// concentration, lock-in and resilience metrics, plots, and HTML, Markdown,
// CSV and Parquet reports, plus side-by-side comparisons of two runs.
//
// It reads the run record through package results only (results.Run: the
// summary, run info and outcome records, in the shapes results defines)
// and the scenario types for metadata. It never calls into the simulator or
// the load generator, so a report cannot tell which of them wrote a run.
//
// Records are streamed, never held: everything is aggregated per strategy,
// replication, deployment and time bucket as it is read, with HdrHistograms
// for latency distributions, so a run with millions of rows needs memory in
// proportion to its strategies × replications × deployments, not its rows.
package reports
