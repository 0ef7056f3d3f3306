package reports

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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

func TestEveryPriceRowHasSourceAndDate(t *testing.T) {
	p := pricing(t)
	check := func(what string, pr Provenance) {
		assert.NotEmpty(t, pr.Source, "%s line %d", what, pr.Line)
		assert.False(t, pr.AsOf.IsZero(), "%s line %d", what, pr.Line)
		assert.True(t, pr.AsOf.Before(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)), "%s line %d: as-of in the future", what, pr.Line)
	}
	for _, r := range p.Tokens {
		check("tokens.csv", r.Provenance)
	}
	for _, r := range p.Provisioned {
		check("provisioned.csv", r.Provenance)
	}
	for _, r := range p.Egress {
		check("egress.csv", r.Provenance)
	}
	for _, r := range p.Storage {
		check("storage.csv", r.Provenance)
	}
	for _, r := range p.Exit {
		check("exit.csv", r.Provenance)
	}
	assert.NotEmpty(t, p.Dates())
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

func validTables() fstest.MapFS {
	return fstest.MapFS{
		"tokens.csv":      {Data: []byte("provider_kind,model,region,input_usd_per_mtok,cached_input_usd_per_mtok,output_usd_per_mtok,source,as_of,estimate,note\nazure,m,*,1,,2,src,2026-01-01,no,\n")},
		"provisioned.csv": {Data: []byte("provider_kind,model,region,unit,usd_per_unit_hour,billing_increment,commitment,source,as_of\n")},
		"egress.csv":      {Data: []byte("provider_kind,path,region,from_gb,to_gb,usd_per_gb,source,as_of\nazure,internet,*,0,100,0,s,2026-01-01\nazure,internet,*,100,,0.1,s,2026-01-01\n")},
		"storage.csv":     {Data: []byte("provider_kind,service,region,usd_per_gb_month,source,as_of\n")},
		"exit.csv":        {Data: []byte("provider_kind,regime,usd_per_gb,applies_from,applies_until,conditions,source,as_of\n")},
	}
}

func TestLoadPricingRejectsBadTables(t *testing.T) {
	_, err := LoadPricing(validTables())
	require.NoError(t, err)

	fsys := validTables()
	fsys["tokens.csv"] = &fstest.MapFile{Data: []byte("provider_kind,model,region,input_usd_per_mtok,cached_input_usd_per_mtok,output_usd_per_mtok,source,as_of\nazure,m,*,1,,2,,2026-01-01\n")}
	_, err = LoadPricing(fsys)
	assert.ErrorContains(t, err, "tokens.csv line 2: source is empty")

	fsys = validTables()
	fsys["tokens.csv"] = &fstest.MapFile{Data: []byte("provider_kind,model,region,input_usd_per_mtok,cached_input_usd_per_mtok,output_usd_per_mtok,source,as_of\nazure,m,*,1,,2,s,last year\n")}
	_, err = LoadPricing(fsys)
	assert.ErrorContains(t, err, "as_of")

	fsys = validTables()
	fsys["egress.csv"] = &fstest.MapFile{Data: []byte("provider_kind,path,region,from_gb,to_gb,usd_per_gb,source,as_of\nazure,internet,*,0,100,0,s,2026-01-01\nazure,internet,*,200,,0.1,s,2026-01-01\n")}
	_, err = LoadPricing(fsys)
	assert.ErrorContains(t, err, "previous one ends at 100 GB")

	fsys = validTables()
	delete(fsys, "exit.csv")
	_, err = LoadPricing(fsys)
	assert.ErrorContains(t, err, "exit.csv")
}
