package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The fixtures of package pricerefresh's tests: the two price APIs'
// answers in their documented shapes, a manifest of which request each
// answers, and tables to refresh.
const refreshFixtures = "../../reports/pricerefresh/testdata/pricing-refresh"

// priceAPIs serves the fixtures; fail, when set, answers every request for
// the fixture file it names with HTTP 500.
func priceAPIs(t *testing.T, fail string) *httptest.Server {
	t.Helper()
	var manifest struct {
		Azure map[string]string `json:"azure"`
		AWS   map[string]string `json:"aws"`
	}
	data, err := os.ReadFile(filepath.Join(refreshFixtures, "manifest.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &manifest))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		file := manifest.AWS[r.URL.Path]
		if r.URL.Path == "/api/retail/prices" {
			key := r.URL.Query().Get("$filter")
			if skip := r.URL.Query().Get("$skip"); skip != "" {
				key += "|" + skip
			}
			file = manifest.Azure[key]
		}
		switch file {
		case "":
			http.NotFound(w, r)
		case fail:
			http.Error(w, "service unavailable", http.StatusInternalServerError)
		default:
			http.ServeFile(w, r, filepath.Join(refreshFixtures, file))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func refreshTables(t *testing.T) (string, map[string]string) {
	t.Helper()
	dir := t.TempDir()
	before := map[string]string{}
	for _, name := range []string{"tokens.csv", "provisioned.csv", "egress.csv", "storage.csv", "exit.csv"} {
		data, err := os.ReadFile(filepath.Join(refreshFixtures, "tables", name))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), data, 0o600))
		before[name] = string(data)
	}
	return dir, before
}

func tablesIn(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, name := range []string{"tokens.csv", "provisioned.csv", "egress.csv", "storage.csv", "exit.csv"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		out[name] = string(data)
	}
	return out
}

func TestPricingRefresh(t *testing.T) {
	srv := priceAPIs(t, "")
	dir, before := refreshTables(t)
	args := []string{"pricing", "refresh", "--dir", dir, "--now", "2026-12-06",
		"--azure-endpoint", srv.URL + "/api/retail/prices", "--aws-endpoint", srv.URL}

	// --dry-run prints the changes and the old and new lines, writes nothing.
	out, errOut, err := execute(t, append(args, "--dry-run")...)
	require.NoError(t, err)
	storage := filepath.Join(dir, "storage.csv")
	assert.Contains(t, out, storage+":3: azure blob-hot-lrs (*): usd_per_gb_month 0.018 → 0.0184; retrieved 2026-12-06 from https://prices.azure.com/api/retail/prices?api-version=2023-01-01-preview&$filter=serviceName%20eq%20'Storage'")
	assert.Contains(t, out, filepath.Join(dir, "tokens.csv")+":5: azure gpt-4.1 (*): input_usd_per_mtok 2.00 → 2.2; retrieved 2026-12-06")
	assert.Contains(t, out, filepath.Join(dir, "tokens.csv")+":2: azure gpt-4o (*): figures confirmed; retrieved 2026-12-06")
	assert.Contains(t, out, "  - azure,blob-hot-lrs,*,0.018,https://azure.microsoft.com/en-us/pricing/details/storage/blobs/,,2026-11-26,yes,")
	assert.Contains(t, out, "  + azure,blob-hot-lrs,*,0.0184,https://prices.azure.com/")
	assert.Contains(t, out, "not matched, left as they are:\n")
	assert.Contains(t, out, filepath.Join(dir, "tokens.csv")+":6: azure gpt-5 (*): no global token meter for gpt-5")
	assert.Contains(t, out, filepath.Join(dir, "egress.csv")+":10: azure internet 10000–∞ GB (*): ")
	assert.Contains(t, out, "refreshed 14 of 21 price rows (2 values changed), 7 not matched; dry run: nothing written\n")
	assert.Contains(t, errOut, "pricing refresh: GET "+srv.URL+"/offers/v1.0/aws/index.json\n", "progress goes to stderr")
	assert.NotContains(t, out, "GET ")
	assert.Equal(t, before, tablesIn(t, dir))

	// Without --dry-run the tables are rewritten, and check then lists only
	// the rows refresh could not match.
	out, _, err = execute(t, args...)
	require.NoError(t, err)
	assert.Contains(t, out, "refreshed 14 of 21 price rows (2 values changed), 7 not matched; wrote ")
	assert.NotContains(t, out, "  + ")
	after := tablesIn(t, dir)
	assert.NotEqual(t, before["storage.csv"], after["storage.csv"])
	assert.Equal(t, before["exit.csv"], after["exit.csv"])
	_, _, err = execute(t, "pricing", "check", "--pricing", dir, "--now", "2026-12-06")
	assert.Equal(t, 1, exitCode(err))
	assert.EqualError(t, err, "7 of 21 price rows need a first-party check (7 unverified; max age 90d on 2026-12-06)")
}

func TestPricingRefreshAPIError(t *testing.T) {
	srv := priceAPIs(t, "aws-bedrock-region-index.json")
	dir, before := refreshTables(t)
	_, _, err := execute(t, "pricing", "refresh", "--dir", dir, "--azure-endpoint", srv.URL+"/api/retail/prices", "--aws-endpoint", srv.URL)
	require.Error(t, err)
	assert.Equal(t, exitPricingFetch, exitCode(err))
	assert.Equal(t, "pricing refresh: price API not read, no table changed: "+srv.URL+
		"/offers/v1.0/aws/AmazonBedrock/current/region_index.json: HTTP 500 Internal Server Error: service unavailable", err.Error())
	assert.Equal(t, before, tablesIn(t, dir), "nothing is written when an API fails, not even the Azure rows read before it")

	// An endpoint nobody listens on.
	dead := httptest.NewServer(http.NotFoundHandler())
	dead.Close()
	_, _, err = execute(t, "pricing", "refresh", "--dir", dir, "--azure-endpoint", dead.URL, "--aws-endpoint", dead.URL)
	assert.Equal(t, exitPricingFetch, exitCode(err))
	assert.Contains(t, err.Error(), "unreachable")
}

func TestPricingRefreshUsage(t *testing.T) {
	dir, _ := refreshTables(t)
	for _, args := range [][]string{
		{"--bogus"},
		{"--now", "06/12/2026"},
		{"--azure-endpoint", "prices.azure.com"},
		{"--timeout", "0s"},
		{"extra-arg"},
	} {
		_, _, err := execute(t, append([]string{"pricing", "refresh", "--dir", dir}, args...)...)
		assert.Equal(t, exitUsage, exitCode(err), "%v: %v", args, err)
	}
	// Tables that do not load are a usage error too, before any request.
	bad := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(bad, "tokens.csv"), []byte("provider_kind\n"), 0o600))
	_, _, err := execute(t, "pricing", "refresh", "--dir", bad, "--azure-endpoint", "http://127.0.0.1:1", "--aws-endpoint", "http://127.0.0.1:1")
	assert.Equal(t, exitUsage, exitCode(err))
	assert.True(t, strings.HasPrefix(err.Error(), "price tables do not load:"), err.Error())
}
