package main

import (
	"errors"

	"github.com/spf13/cobra"

	"github.com/mcbench/mcbench/scenarios"
)

func init() {
	rootCmd.AddCommand(&cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of scenario files",
		Long: `Print the JSON Schema (draft 2020-12) of scenario files, for editor completion
and CI checks of YAML scenarios (for example with the YAML language server:
"# yaml-language-server: $schema=mcbench.schema.json"). The schema checks
shape and units; "mcbench validate" also checks references and values.`,
		Example: `  mcbench schema > mcbench.schema.json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{errors.New("schema takes no arguments")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := scenarios.JSONSchema()
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(append(b, '\n'))
			return err
		},
	})
}
