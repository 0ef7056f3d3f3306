// Command mcbench compares multi-cloud AI placement strategies: it simulates
// them (sim), load-tests them (load, fake) and reports on them (report).
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// exitUsage is the exit code for a user mistake: bad flags or a bad scenario.
const exitUsage = 2

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
	if err := rootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "mcbench:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(exitUsage)
		}
		var ce exitCodeError
		if errors.As(err, &ce) {
			os.Exit(ce.code)
		}
		os.Exit(1)
	}
}

func init() {
	rootCmd.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w (see '%s --help')", err, c.CommandPath())}
	})
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
