package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const priceCols = "source_url,retrieved,value_as_of,estimate,note"

// writePriceTables writes a complete set of tables with one token row per
// entry of tokenRows (CSV data rows) to a temporary directory.
func writePriceTables(t *testing.T, tokenRows ...string) string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{
		"tokens.csv":      "provider_kind,model,region,input_usd_per_mtok,cached_input_usd_per_mtok,output_usd_per_mtok," + priceCols + "\n" + strings.Join(tokenRows, ""),
		"provisioned.csv": "provider_kind,model,region,unit,usd_per_unit_hour,billing_increment,commitment," + priceCols + "\n",
		"egress.csv":      "provider_kind,path,region,from_gb,to_gb,usd_per_gb," + priceCols + "\nbedrock,internet,*,0,,0.09,https://aws.amazon.com/ec2/pricing/on-demand/,2026-11-20,,no,\n",
		"storage.csv":     "provider_kind,service,region,usd_per_gb_month," + priceCols + "\n",
		"exit.csv":        "provider_kind,regime,usd_per_gb,applies_from,applies_until,conditions," + priceCols + "\n*,eu-data-act,0,2027-01-12,,switching charges banned,https://eur-lex.europa.eu/eli/reg/2023/2854/oj,2026-11-01,,no,law\n",
	}
	for name, data := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(data), 0o600))
	}
	return dir
}

const (
	freshRow      = "azure,gpt-4o,*,2.5,,10,https://azure.microsoft.com/en-us/pricing/details/cognitive-services/openai-service/,2026-11-30,,no,\n"
	staleRow      = "bedrock,amazon.nova-pro-v1:0,us-east-1,0.8,,3.2,https://aws.amazon.com/bedrock/pricing/,2026-06-01,,no,\n"
	unverifiedRow = "bedrock,amazon.nova-lite-v1:0,*,0.06,,0.24,https://aws.amazon.com/bedrock/pricing/,,2026-07-24,no,value not yet checked against the first-party page\n"
)

func TestPricingCheckFresh(t *testing.T) {
	dir := writePriceTables(t, freshRow)
	out, _, err := execute(t, "pricing", "check", "--pricing", dir, "--now", "2026-12-06")
	require.NoError(t, err)
	assert.Equal(t, "all 3 price rows retrieved from their first-party source within 90d of 2026-12-06\n", out)

	// A Go duration works as well as days; 6 days is too short for the
	// exit row (retrieved 2026-11-01) and the egress row (2026-11-20).
	out, _, err = execute(t, "pricing", "check", "--pricing", dir, "--now", "2026-12-06", "--max-age", "144h")
	assert.Equal(t, 1, exitCode(err))
	assert.Contains(t, out, "egress.csv:2: stale: bedrock internet, 0 GB–∞ per month (*): retrieved 2026-11-20, 16 days before 2026-12-06 (max age 144h): https://aws.amazon.com/ec2/pricing/on-demand/\n")
	assert.NotContains(t, out, "tokens.csv", "gpt-4o was retrieved 6 days before: not stale")
}

func TestPricingCheckStaleAndUnverified(t *testing.T) {
	dir := writePriceTables(t, freshRow, staleRow, unverifiedRow)
	out, _, err := execute(t, "pricing", "check", "--pricing", dir, "--now", "2026-12-06", "--max-age", "90d")
	require.Error(t, err)
	assert.Equal(t, 1, exitCode(err), "stale rows fail the check with exit 1")
	assert.Equal(t, "2 of 5 price rows need a first-party check (1 unverified, 1 stale; max age 90d on 2026-12-06)", err.Error())
	tokens := filepath.Join(dir, "tokens.csv")
	assert.Equal(t,
		tokens+":3: stale: bedrock amazon.nova-pro-v1:0 (us-east-1): retrieved 2026-06-01, 188 days before 2026-12-06 (max age 90d): https://aws.amazon.com/bedrock/pricing/\n"+
			tokens+":4: unverified: bedrock amazon.nova-lite-v1:0 (*): never retrieved from its source (value as of 2026-07-24): https://aws.amazon.com/bedrock/pricing/\n",
		out)

	out, _, err = execute(t, "pricing", "check", "--pricing", dir, "--now", "2026-12-06", "--json")
	assert.Equal(t, 1, exitCode(err))
	var doc pricingCheckJSON
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	assert.Equal(t, 5, doc.Rows)
	assert.Equal(t, 90.0, doc.MaxAgeDays)
	require.Len(t, doc.Problems, 2)
	assert.Equal(t, "stale", doc.Problems[0].Status)
	require.NotNil(t, doc.Problems[0].AgeDays)
	assert.Equal(t, 188, *doc.Problems[0].AgeDays)
	assert.Equal(t, "unverified", doc.Problems[1].Status)
	assert.Nil(t, doc.Problems[1].AgeDays, "an unverified row has no age")
	assert.Equal(t, "2026-07-24", doc.Problems[1].ValueAsOf)
	assert.Equal(t, 4, doc.Problems[1].Line)
	assert.Equal(t, "https://aws.amazon.com/bedrock/pricing/", doc.Problems[1].SourceURL)
}

func TestPricingCheckBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--max-age", "ninety"},
		{"--max-age", "0d"},
		{"--max-age", "-5h"},
		{"--now", "06/12/2026"},
		{"--no-such-flag"},
		{"extra-arg"},
	} {
		_, _, err := execute(t, append([]string{"pricing", "check"}, args...)...)
		assert.Equal(t, exitUsage, exitCode(err), "%v: %v", args, err)
	}
	_, _, err := execute(t, "pricing", "nonsense")
	assert.Equal(t, exitUsage, exitCode(err))
}

// A row citing a third party does not load: exit 2, naming file, line and column.
func TestPricingRefusesThirdPartySources(t *testing.T) {
	dir := writePriceTables(t, freshRow, "azure,gpt-4o-mini,*,0.15,,0.6,https://www.aicosthub.com/azure,2026-11-30,,no,\n")
	for _, sub := range []string{"check", "list"} {
		_, _, err := execute(t, "pricing", sub, "--pricing", dir)
		require.Error(t, err)
		assert.Equal(t, exitUsage, exitCode(err), sub)
		assert.Contains(t, err.Error(), filepath.Join(dir, "tokens.csv")+`:3:31: source_url: "https://www.aicosthub.com/azure" is not a first-party source`)
	}
}

func TestPricingListShowsSources(t *testing.T) {
	dir := writePriceTables(t, freshRow, unverifiedRow)
	out, _, err := execute(t, "pricing", "list", "--pricing", dir)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 5, out)
	assert.Regexp(t, `^ROW +PROVIDER +ITEM +REGION +PRICE +RETRIEVED +SOURCE$`, lines[0])
	assert.Regexp(t, `tokens\.csv:2 +azure +gpt-4o +\* +\$2\.5 in, \$10 out per 1M tokens +2026-11-30 +https://azure\.microsoft\.com/`, lines[1])
	assert.Regexp(t, `tokens\.csv:3 .* unverified \(value 2026-07-24\) +https://aws\.amazon\.com/bedrock/pricing/$`, lines[2])

	// The built-in tables list too, one line per row plus the header.
	out, _, err = execute(t, "pricing", "list", "--json")
	require.NoError(t, err)
	var rows []pricingRowJSON
	require.NoError(t, json.Unmarshal([]byte(out), &rows))
	assert.NotEmpty(t, rows)
	for _, r := range rows {
		assert.True(t, strings.HasPrefix(r.SourceURL, "https://"), "%s:%d", r.File, r.Line)
		assert.True(t, strings.HasPrefix(r.File, "testdata/pricing/"), r.File)
	}
}
