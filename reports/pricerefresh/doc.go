// Package pricerefresh refreshes the pricing tables (testdata/pricing, or
// any directory package reports loads with LoadPricingDir) from the
// providers' own machine-readable price lists: the Azure Retail Prices API
// and the AWS Price List Bulk API. It backs `mcbench pricing refresh`.
//
// It is the only package of mcbench that reads prices over HTTP. Package
// reports owns the tables (their shapes, loading, validation, `pricing
// check`) and never imports this package, so producing a report needs no
// HTTP client; scripts/check-layering.sh enforces that direction.
//
// Where to start reading: Refresh (refresh.go) plans a refresh without
// writing anything, and Result.Write rewrites the changed rows in place.
// ruleFor (refresh.go) says which API answer prices which row; azure.go
// and aws.go read the two APIs, fetch.go is the capped, credential-free
// HTTP getter both use, and table.go rewrites a table's rows as text so
// every other line stays byte for byte.
package pricerefresh
