// Command mcbench compares multi-cloud AI placement strategies: it simulates
// them (sim), load-tests them (load, fake) and reports on them (report).
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes, one table for every command (exitCodesHelp prints it under
// every command's help, and the README has it): a pipeline tells a broken
// run from a bad invocation, from a run that measured nothing, from a run
// whose numbers crossed a threshold.
const (
	// exitOK: the command did what was asked and every check passed.
	exitOK = 0
	// exitFailure: a runtime failure (the run could not be carried out,
	// a write failed on a full disk); also the verdict "the check failed"
	// of commands that are checks: twin's "the simulator disagrees" and
	// pricing check's stale rows (exitTwinFail, exitPricingStale).
	exitFailure = 1
	// exitUsage: a user mistake: a bad flag, argument, scenario, run
	// directory, file or --out, an unknown command.
	exitUsage = 2
	// exitUnmeasured: the run measured nothing that can be trusted: a load
	// test whose every measured request failed to connect or authenticate,
	// and twin's invalid measurement (exitTwinInvalid).
	exitUnmeasured = 3
	// exitUnreachable: twin and pricing refresh could not reach a verdict
	// (a target or a price API that does not answer): their runtime
	// failure, kept apart from 1, which they use for a failed check.
	exitUnreachable = 4
	// exitThresholds: the run completed and at least one --threshold was
	// crossed (k6 uses the same code).
	exitThresholds = 99
	// exitInterrupted: a sim or load run stopped by SIGINT or SIGTERM,
	// 130 as a shell reports a command ended by Ctrl-C (128 + 2). The run
	// directory is complete all the same: summary.json (marked
	// interrupted, with null figures for strategies never started),
	// run.json and the merged records cover what was measured before the
	// stop.
	exitInterrupted = 130
)

// exitCodesHelp is the exit-code table every command's help ends with.
const exitCodesHelp = `
Exit codes:
  0    success: the run completed and every --threshold held
  1    runtime failure (twin, pricing check: the check failed)
  2    user error: a bad flag, argument, scenario, run directory, file or --out; an unknown command
  3    nothing measured: every measured request of a load test failed to connect or
       authenticate (twin: the measurement is invalid)
  4    twin, pricing refresh: no verdict (a target or price API that does not answer)
  99   a --threshold was crossed (the run itself completed; its files are written)
  130  interrupted (SIGINT/SIGTERM): what was measured is written
`

// usageError marks an error as the user's mistake, so main exits with code 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitCodeError makes main exit with code instead of 1: a command whose
// outcome has more than one meaning (mcbench twin: 1 for a model that
// disagrees, 3 for a measurement that cannot be trusted).
type exitCodeError struct {
	code int
	err  error
}

func (e exitCodeError) Error() string { return e.err.Error() }
func (e exitCodeError) Unwrap() error { return e.err }

var rootCmd = &cobra.Command{
	Use:   "mcbench",
	Short: "Simulate, load-test and report on multi-cloud AI placement strategies",
	Long: `mcbench answers "what happens if we place these AI layers on these clouds and
route traffic this way?" with numbers: a discrete-event simulator with confidence
intervals (sim), a load generator for the real Azure OpenAI and Bedrock routing
paths and faithful local fakes of them, and reports.`,
	Example: `  mcbench sim demo
  mcbench validate my-scenario.yaml
  mcbench schema > mcbench.schema.json`,
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	err := rootCmd.Execute()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mcbench:", err)
	}
	os.Exit(exitCode(err))
}

// exitCode maps the error a command returned to the process's exit code.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ue usageError
	if errors.As(err, &ue) || cobraUsage(err) {
		return exitUsage
	}
	var ce exitCodeError
	if errors.As(err, &ce) {
		return ce.code
	}
	return exitFailure
}

// cobraUsage recognises the usage errors cobra makes itself, without a
// hook to mark them: an unknown command ("mcbench simm") and a required
// flag left out. Cobra has no error types for them, so they are known by
// their (long-stable) wording.
func cobraUsage(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command ") || strings.HasPrefix(msg, "required flag(s) ") ||
		strings.HasPrefix(msg, "if any flags in the group ")
}

func init() {
	rootCmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
	// Every command's help ends with the exit-code table (subcommands
	// inherit the root's usage template).
	rootCmd.SetUsageTemplate(rootCmd.UsageTemplate() + exitCodesHelp)
}

// exactArgs is cobra.ExactArgs with the error marked as a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return usageError{fmt.Errorf("%w (see '%s --help')", err, cmd.CommandPath())}
		}
		return nil
	}
}
