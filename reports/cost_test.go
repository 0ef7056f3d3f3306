package reports

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func pricing(t *testing.T) *Pricing {
	t.Helper()
	p, err := DefaultPricing()
	require.NoError(t, err)
	return p
}

func TestEgressTiersWorkedExamples(t *testing.T) {
	p := pricing(t)
	aws := p.EgressTiersFor("bedrock", PathInternet, "us-east-1", nil)
	require.Len(t, aws, 5)
	// Worked example (docs/references.md [15]): a 50 TB exit ≈ 9.9 TB × 0.09 + 40 TB × 0.085 ≈ $4.3k (first 100 GB free).
	assert.InDelta(t, 9900*0.09+40000*0.085, TieredCost(aws, 50_000), 1e-6)
	assert.InDelta(t, 4291, TieredCost(aws, 50_000), 1e-6)
	// 1 PB ≈ $54k: 891 + 3,400 + 7,000 + 850,000 × 0.05.
	assert.InDelta(t, 53791, TieredCost(aws, 1_000_000), 1e-6)
	assert.Equal(t, 0.0, TieredCost(aws, 100), "the first 100 GB a month are free")
	assert.InDelta(t, 50*0.09, TieredCost(aws, 150), 1e-9)
	azure := p.EgressTiersFor("azure", PathInternet, "eastus2", nil)
	assert.InDelta(t, 900*0.087, TieredCost(azure, 1000), 1e-9)
	// Region tags select a more specific table.
	assert.Equal(t, 0.08, p.EgressTiersFor("azure", PathInterRegion, "japaneast", []string{"asia"})[0].PerGB)
	assert.Equal(t, 0.02, p.EgressTiersFor("azure", PathInterRegion, "eastus2", nil)[0].PerGB)
	assert.Nil(t, p.EgressTiersFor("generic", PathInternet, "x", nil))
}

func TestMonthlyRate(t *testing.T) {
	aws := pricing(t).EgressTiersFor("bedrock", PathInternet, "*", nil)
	// 1 GB in one hour recurs as 730 GB a month: 100 GB free, 630 at $0.09.
	assert.InDelta(t, 630*0.09/730, MonthlyRate(aws, 1, 1), 1e-12)
	// A month's volume inside the free tier is free.
	assert.Equal(t, 0.0, MonthlyRate(aws, 0.05, 1))
	assert.Equal(t, 0.0, MonthlyRate(nil, 5, 1))
}

func TestBilledHoursPartialIncrements(t *testing.T) {
	// Azure prorates PTUs by the minute: 100 PTUs for 15 minutes bill as 25 PTU-hours.
	assert.InDelta(t, 25, 100*BilledHours(15*time.Minute, time.Minute), 1e-12)
	// A started minute bills in full: 90 s is 2 minutes.
	assert.InDelta(t, 2.0/60, BilledHours(90*time.Second, time.Minute), 1e-12)
	// Bedrock model units bill per started hour: 61 minutes is 2 hours.
	assert.Equal(t, 2.0, BilledHours(61*time.Minute, time.Hour))
	assert.Equal(t, 1.0, BilledHours(time.Hour, time.Hour))
	assert.Equal(t, 0.0, BilledHours(0, time.Hour))
	pp := &ProvisionedPrice{PerUnitHour: 1, Increment: time.Minute}
	assert.InDelta(t, 25, ProvisionedCost(pp, 100, 15*time.Minute), 1e-12)
	assert.Equal(t, 0.0, ProvisionedCost(nil, 100, time.Hour))
}

func TestTokenCost(t *testing.T) {
	p := pricing(t)
	gpt4o := p.TokenPriceFor("azure", "gpt-4o", "eastus2", nil)
	require.NotNil(t, gpt4o)
	assert.InDelta(t, 2.50+10.00, TokenCost(gpt4o, 1e6, 0, 1e6), 1e-12)
	g41 := p.TokenPriceFor("azure", "gpt-4.1", "eastus2", nil)
	assert.InDelta(t, 0.50, TokenCost(g41, 0, 1e6, 0), 1e-12, "cached input at its own price")
	assert.InDelta(t, 2.50, TokenCost(gpt4o, 0, 1e6, 0), 1e-12, "no cached price: input price")
	assert.Equal(t, 0.0, TokenCost(nil, 1e6, 0, 1e6))
}

func TestStorageCost(t *testing.T) {
	s := &StoragePrice{PerGBMonth: 0.023}
	assert.InDelta(t, 1000*0.023, StorageCost(s, 1000, time.Duration(HoursPerMonth*float64(time.Hour))), 1e-9)
	assert.InDelta(t, 1000*0.023/730, StorageCost(s, 1000, time.Hour), 1e-12)
	assert.False(t, math.IsNaN(StorageCost(nil, 1, time.Hour)))
}
