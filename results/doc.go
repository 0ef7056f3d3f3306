// Package results is mcbench's run record: the one definition of what a
// run directory holds, which the simulator and the load generator write
// and the reports read without asking which engine wrote it.
//
// A run directory has:
//
//   - summary.json (Summary): per strategy, counts, latency with intervals,
//     cost, sessions, fault windows and deployments, and for a load test a
//     load block; versioned by schema_version (CurrentSchema), read strictly
//     by ReadSummary, described by SummaryJSONSchema;
//   - run.json (RunInfo): the command, the version and the resolved scenario;
//   - outcomes.csv (Outcome, OutcomeWriter, ReadOutcomes): one row per
//     attempt and one per user-visible request;
//   - sessions.csv (SessionRecord, SessionWriter, ReadSessions): one row per
//     agentic session, when the scenario has sessions.
//
// A simulation writes its records as part files, one per strategy and
// replication, and Parts merges them in a fixed order. The package also
// owns the statistics both engines and the reports share: confidence
// intervals over replications (MeanCI, PairedCI, WelchCI), the billing
// rule of an attempt (Billed), and the fault-window tallies (FaultTally).
//
// Problems with a run directory's files are *scenarios.FieldError naming
// the file, line, column and field, like every other input problem.
package results
