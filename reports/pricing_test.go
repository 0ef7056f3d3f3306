package reports

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/scenarios"
)

// The binary embeds reports/pricing; testdata/pricing is the canonical copy.
func TestEmbeddedPricingMatchesTestdata(t *testing.T) {
	canon, err := filepath.Glob("../testdata/pricing/*.csv")
	require.NoError(t, err)
	require.NotEmpty(t, canon)
	embedded, err := fs.Glob(embeddedPricing, "pricing/*.csv")
	require.NoError(t, err)
	require.Len(t, embedded, len(canon), "run `go generate ./reports` to copy testdata/pricing into reports/pricing")
	for _, path := range canon {
		want, err := os.ReadFile(path)
		require.NoError(t, err)
		got, err := embeddedPricing.ReadFile("pricing/" + filepath.Base(path))
		require.NoError(t, err, "run `go generate ./reports`")
		assert.Equal(t, string(want), string(got), "%s differs from the embedded copy: run `go generate ./reports`", path)
	}
}

// Every row of the shipped tables cites a first-party page, carries a date,
// and names no third-party source anywhere (issue 12: a regulator will not
// accept study notes, blogs or consultancies).
func TestEveryPriceRowIsFirstPartyAndDated(t *testing.T) {
	p := pricing(t)
	rows := p.Rows()
	require.Len(t, rows, len(p.Tokens)+len(p.Provisioned)+len(p.Egress)+len(p.Storage)+len(p.Exit))
	thirdParty := []string{"litellm", "leanopstech", "usage.ai", "cloudpricebook", "billspike", "c3x.dev", "lucidity", "azure-calc",
		"aicosthub", "redresscompliance", "oreate", "tokenmix", "devnotes", "2kabhishek", "study notes", "forrester",
		"informationtechnologyzone", "dcd", "essentials", "github"}
	for _, r := range rows {
		where := fmt.Sprintf("%s:%d", r.File, r.Line)
		assert.NoError(t, CheckSourceURL(r.SourceURL), where)
		assert.False(t, r.Date().IsZero(), "%s: no date", where)
		assert.True(t, r.Date().Before(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)), "%s: dated in the future", where)
		if !r.Verified() {
			assert.Contains(t, r.Note, "not yet checked against the first-party page", "%s: an unverified row says so", where)
		}
		text := strings.ToLower(r.SourceURL + " " + r.Note)
		for _, name := range thirdParty {
			assert.NotContains(t, text, name, "%s cites a third party", where)
		}
		assert.Regexp(t, `^testdata/pricing/[a-z]+\.csv$`, r.File)
	}
}

func TestCheckSourceURL(t *testing.T) {
	for _, ok := range []string{
		"https://azure.microsoft.com/en-us/pricing/details/cognitive-services/openai-service/",
		"https://learn.microsoft.com/en-us/azure/ai-foundry/openai/how-to/provisioned-throughput-onboarding",
		"https://prices.azure.com/api/retail/prices?$filter=serviceName%20eq%20%27Foundry%20Models%27",
		"https://aws.amazon.com/bedrock/pricing/",
		"https://docs.aws.amazon.com/bedrock/latest/userguide/prov-throughput.html",
		"https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonBedrock/current/index.json",
		"https://eur-lex.europa.eu/eli/reg/2023/2854/oj",
		"https://AWS.Amazon.com/s3/pricing/",
	} {
		assert.NoError(t, CheckSourceURL(ok), ok)
	}
	for bad, why := range map[string]string{
		"": "empty",
		"LiteLLM model_prices_and_context_window.json": "not an https URL",
		"http://aws.amazon.com/bedrock/pricing/":       "not an https URL",
		"https://user@aws.amazon.com/":                 "not an https URL",
		"https://leanopstech.com/aws-egress":           "host leanopstech.com is not",
		"https://microsoft.com.example.net/pricing":    "host microsoft.com.example.net is not",
		"https://notmicrosoft.com/pricing":             "host notmicrosoft.com is not",
		"https://www.amazon.com/bedrock":               "host www.amazon.com is not",
		"https://github.com/BerriAI/litellm":           "host github.com is not",
	} {
		err := CheckSourceURL(bad)
		if assert.Error(t, err, bad) {
			assert.Contains(t, err.Error(), why, bad)
		}
	}
}

func TestPriceLookup(t *testing.T) {
	p := pricing(t)
	g := p.TokenPriceFor("azure", "gpt-4o", "eastus2", nil)
	require.NotNil(t, g)
	assert.Equal(t, 2.50, g.Input)
	dz := p.TokenPriceFor("azure", "GPT-4o", "swedencentral", []string{"eu-data-zone"})
	require.NotNil(t, dz, "model names match case-insensitively")
	assert.Equal(t, 2.75, dz.Input, "a region tag selects the Data Zone price")
	assert.True(t, dz.Estimate)
	oss := p.TokenPriceFor("bedrock", "openai.gpt-oss-120b-1:0", "us-east-1", nil)
	require.NotNil(t, oss)
	assert.Equal(t, 0.60, oss.Output)
	assert.Nil(t, p.TokenPriceFor("bedrock", "gpt-4o", "us-east-1", nil), "prices are per provider kind")
	assert.Nil(t, p.TokenPriceFor("azure", "mystery-model", "eastus2", nil))

	ptu := p.ProvisionedFor("azure", "gpt-4o", "eastus2", nil)
	require.NotNil(t, ptu)
	assert.Equal(t, time.Minute, ptu.Increment)
	assert.Equal(t, 2.00, p.ProvisionedFor("azure", "gpt-4o", "eastus2", []string{"regional-ptu"}).PerUnitHour)
	mu := p.ProvisionedFor("bedrock", "anthropic.claude-v2", "us-east-1", nil)
	require.NotNil(t, mu)
	assert.Equal(t, time.Hour, mu.Increment)
	assert.Nil(t, p.ProvisionedFor("bedrock", "openai.gpt-oss-120b-1:0", "us-east-1", nil))
	assert.Equal(t, 0.023, p.StorageFor("bedrock", "us-east-1", nil).PerGBMonth)
}

const provCols = "source_url,retrieved,value_as_of,estimate,note"

func validTables() fstest.MapFS {
	return fstest.MapFS{
		"tokens.csv":      {Data: []byte("provider_kind,model,region,input_usd_per_mtok,cached_input_usd_per_mtok,output_usd_per_mtok," + provCols + "\nazure,m,*,1,,2,https://azure.microsoft.com/p,2026-01-01,,no,\n")},
		"provisioned.csv": {Data: []byte("provider_kind,model,region,unit,usd_per_unit_hour,billing_increment,commitment," + provCols + "\n")},
		"egress.csv":      {Data: []byte("provider_kind,path,region,from_gb,to_gb,usd_per_gb," + provCols + "\nazure,internet,*,0,100,0,https://azure.microsoft.com/b,,2025-01-01,no,\nazure,internet,*,100,,0.1,https://azure.microsoft.com/b,2026-01-01,,no,\n")},
		"storage.csv":     {Data: []byte("provider_kind,service,region,usd_per_gb_month," + provCols + "\n")},
		"exit.csv":        {Data: []byte("provider_kind,regime,usd_per_gb,applies_from,applies_until,conditions," + provCols + "\n")},
	}
}

// fieldErrors returns the FieldErrors in err as FILE:LINE:COL: PATH strings.
func fieldErrors(t *testing.T, err error) []string {
	t.Helper()
	var es scenarios.Errors
	require.ErrorAs(t, err, &es)
	var out []string
	for _, e := range es {
		out = append(out, fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Path))
	}
	return out
}

func TestLoadPricingRejectsBadTables(t *testing.T) {
	p, err := LoadPricing(validTables())
	require.NoError(t, err)
	assert.False(t, p.Egress[0].Verified(), "an empty retrieved date loads, as unverified")
	assert.Equal(t, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), p.Egress[0].Date())
	assert.True(t, p.Egress[1].Verified())

	const head = "provider_kind,model,region,input_usd_per_mtok,cached_input_usd_per_mtok,output_usd_per_mtok," + provCols + "\n"
	tokens := func(rows string) fstest.MapFS {
		fsys := validTables()
		fsys["tokens.csv"] = &fstest.MapFile{Data: []byte(head + rows)}
		return fsys
	}
	// A third-party source is refused at its field: file, line and column.
	_, err = LoadPricing(tokens("azure,m,*,1,,2,https://azure.microsoft.com/p,2026-01-01,,no,\nazure,n,*,1,,2,https://leanopstech.com/x,2026-01-01,,no,\n"))
	require.Error(t, err)
	assert.Equal(t, []string{"tokens.csv:3:16: source_url"}, fieldErrors(t, err))
	assert.Contains(t, err.Error(), `tokens.csv:3:16: source_url: "https://leanopstech.com/x" is not a first-party source: host leanopstech.com is not microsoft.com, azure.com`)

	// So is a source that is a name, not a URL, and a row with no date at all.
	_, err = LoadPricing(tokens("azure,m,*,1,,2,LiteLLM (commit 8442b939),,,no,\n"))
	assert.Equal(t, []string{"tokens.csv:2:16: source_url", "tokens.csv:2:42: retrieved"}, fieldErrors(t, err))
	assert.ErrorContains(t, err, "no date")

	_, err = LoadPricing(tokens("azure,m,*,1,,2,https://azure.microsoft.com/p,last week,,no,\n"))
	assert.Equal(t, []string{"tokens.csv:2:46: retrieved"}, fieldErrors(t, err))

	_, err = LoadPricing(tokens("azure,m,*,x,,2,https://azure.microsoft.com/p,2026-01-01,,maybe,\n"))
	assert.Equal(t, []string{"tokens.csv:2:11: input_usd_per_mtok", "tokens.csv:2:58: estimate"}, fieldErrors(t, err))

	// A table in the old layout names the columns it lacks and what replaced them.
	fsys := validTables()
	fsys["storage.csv"] = &fstest.MapFile{Data: []byte("provider_kind,service,region,usd_per_gb_month,source,as_of\n")}
	_, err = LoadPricing(fsys)
	assert.Equal(t, []string{"storage.csv:1:0: source_url", "storage.csv:1:0: retrieved", "storage.csv:1:0: value_as_of"}, fieldErrors(t, err))
	assert.ErrorContains(t, err, "the source and as_of columns were replaced by source_url, retrieved and value_as_of")

	fsys = validTables()
	fsys["egress.csv"] = &fstest.MapFile{Data: []byte("provider_kind,path,region,from_gb,to_gb,usd_per_gb," + provCols + "\nazure,internet,*,0,100,0,https://azure.microsoft.com/b,2026-01-01,,,\nazure,internet,*,200,,0.1,https://azure.microsoft.com/b,2026-01-01,,,\n")}
	_, err = LoadPricing(fsys)
	assert.ErrorContains(t, err, "egress.csv:3: from_gb: azure internet *: tier starts at 200 GB but the previous one ends at 100 GB")

	fsys = validTables()
	delete(fsys, "exit.csv")
	_, err = LoadPricing(fsys)
	assert.ErrorContains(t, err, "exit.csv: cannot read the table")
}

// LoadPricingDir names files by their path, so an error points at the file to edit.
func TestLoadPricingDirNamesThePath(t *testing.T) {
	dir := t.TempDir()
	for name, f := range validTables() {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), f.Data, 0o600))
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "storage.csv"),
		[]byte("provider_kind,service,region,usd_per_gb_month,"+provCols+"\nazure,blob,*,0.02,https://example.com/blob,,2026-01-01,yes,\n"), 0o600))
	_, err := LoadPricingDir(dir)
	assert.Equal(t, []string{filepath.Join(dir, "storage.csv") + ":2:19: source_url"}, fieldErrors(t, err))
}

func TestPricingCheck(t *testing.T) {
	p, err := LoadPricing(validTables())
	require.NoError(t, err)
	now := time.Date(2026, 3, 1, 15, 0, 0, 0, time.UTC)
	// tokens row retrieved 2026-01-01 (59 days before), egress tier 1
	// unverified, egress tier 2 retrieved 2026-01-01.
	probs := p.Check(now, 90*24*time.Hour)
	require.Len(t, probs, 1)
	assert.Equal(t, PriceUnverified, probs[0].Status)
	assert.Equal(t, "egress", probs[0].Table)
	assert.Equal(t, 2, probs[0].Line)

	probs = p.Check(now, 59*24*time.Hour)
	require.Len(t, probs, 1, "retrieved exactly max-age ago is fresh")
	probs = p.Check(now, 58*24*time.Hour)
	require.Len(t, probs, 3)
	assert.Equal(t, []string{PriceStale, PriceUnverified, PriceStale}, []string{probs[0].Status, probs[1].Status, probs[2].Status})
	assert.Equal(t, 59, probs[0].AgeDays)
	assert.Equal(t, "tokens", probs[0].Table)
	assert.Equal(t, "m", probs[0].Item)

	probs = p.Check(time.Date(2025, 12, 30, 0, 0, 0, 0, time.UTC), 90*24*time.Hour)
	require.Len(t, probs, 3)
	assert.Equal(t, PriceFuture, probs[0].Status)
	assert.Equal(t, -2, probs[0].AgeDays)

	retrieved, unverified := p.Dates()
	assert.Equal(t, []DateCount{{Date: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Rows: 2}}, retrieved)
	assert.Equal(t, 1, unverified)
}

// The report's price tables give each figure's first-party URL and its
// retrieval date, or an empty date and the value's date for a row nobody
// has checked yet; the methodology counts both.
func TestReportShowsPriceURLsAndRetrievalDates(t *testing.T) {
	sc := smallDemo(t)
	opt := DefaultOptions()
	p, err := DefaultPricing()
	require.NoError(t, err)
	// Mark the gpt-4o rows as read from their source on a known date.
	checked := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := range p.Tokens {
		if p.Tokens[i].Model == "gpt-4o" {
			p.Tokens[i].Retrieved = checked
		}
	}
	opt.Pricing = p
	an := analyzeFixture(t, &fixture{sc: sc, records: synthRecords(sc, 1, 300, 11)}, opt)
	tables := map[string]*Table{}
	var runTable *Table
	for _, s := range an.Document().Sections {
		for _, b := range s.Blocks {
			if b.Table != nil {
				tables[b.Table.ID] = b.Table
				if b.Table.ID == "run" {
					runTable = b.Table
				}
			}
		}
	}
	col := func(tb *Table, name string) int {
		i := slices.Index(tb.Columns, name)
		require.GreaterOrEqual(t, i, 0, "%s has no column %q: %v", tb.ID, name, tb.Columns)
		return i
	}
	used := tables["prices-used"]
	require.NotNil(t, used)
	require.NotEmpty(t, used.Rows)
	url, ret, asOf := col(used, "source URL"), col(used, "retrieved"), col(used, "value as of")
	seenChecked, seenUnchecked := false, false
	for _, r := range used.Rows {
		model := r[slices.Index(used.Columns, "model")].Text
		if r[url].Text == "-" {
			continue // an unpriced deployment
		}
		assert.NoError(t, CheckSourceURL(r[url].Text))
		if model == "gpt-4o" {
			assert.Equal(t, "2026-12-01", r[ret].Text)
			seenChecked = true
		} else {
			assert.Empty(t, r[ret].Text, "%s was never retrieved", model)
			assert.Regexp(t, `^\d{4}-\d{2}-\d{2}$`, r[asOf].Text)
			seenUnchecked = true
		}
	}
	assert.True(t, seenChecked && seenUnchecked, "the demo prices gpt-4o and at least one other model")
	assert.Contains(t, strings.Join(used.Notes, " "), "empty when nobody has checked")

	transfer := tables["transfer-prices"]
	require.NotNil(t, transfer)
	require.NotEmpty(t, transfer.Rows)
	for _, r := range transfer.Rows {
		assert.NoError(t, CheckSourceURL(r[col(transfer, "source URL")].Text))
	}

	require.NotNil(t, runTable)
	var dates string
	for _, r := range runTable.Rows {
		if r[0].Text == "price retrieval dates" {
			dates = r[1].Text
		}
	}
	_, unverified := p.Dates()
	assert.Equal(t, fmt.Sprintf("2026-12-01 (%d rows), %d rows not yet checked against their first-party source (mcbench pricing check lists them)",
		len(p.Rows())-unverified, unverified), dates)
}
