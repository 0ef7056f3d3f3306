package scenarios

import (
	"hash/fnv"
	"math"
	"math/rand/v2"
)

// Rand is a random stream keyed by purpose and entity, so that adding a
// deployment or a strategy never shifts the draws of another stream. It wraps
// PCG by value: no interface dispatch and no allocation per draw.
type Rand struct{ pcg rand.PCG }

// NewRand returns the stream for (seed, replication, purpose, entity).
func NewRand(seed uint64, replication int, purpose, entity string) Rand {
	k := StreamKey(seed, replication, purpose, entity)
	return Rand{pcg: *rand.NewPCG(k, mix64(k^0x9e3779b97f4a7c15))}
}

// StreamKey derives a 64-bit key from (seed, replication, purpose, entity).
func StreamKey(seed uint64, replication int, purpose, entity string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write([]byte(entity))
	return mix64(mix64(seed^h.Sum64()) + uint64(replication)*0x9e3779b97f4a7c15)
}

// Uint64 returns 64 random bits.
func (r *Rand) Uint64() uint64 { return r.pcg.Uint64() }

// Float64 returns a uniform draw in [0, 1).
func (r *Rand) Float64() float64 { return float64(r.pcg.Uint64()>>11) * 0x1p-53 }

// ExpFloat64 returns an exponential draw with mean 1.
func (r *Rand) ExpFloat64() float64 { return -math.Log1p(-r.Float64()) }

// Draw is a counter-based draw in [0, 1): a pure function of a stream key,
// an id and a counter. The simulator uses it for per-request, per-attempt
// draws (service noise, routing choices) so that every strategy sees the same
// draw for the same request and attempt, whatever it did before.
func Draw(key, id, counter uint64) float64 {
	x := mix64(key ^ mix64(id+0x632be59bd9b4e019) ^ mix64(counter*0x9e3779b97f4a7c15+0xd1b54a32d192ed03))
	return float64(x>>11) * 0x1p-53
}

// mix64 is the SplitMix64 finaliser: a bijection with good avalanche.
func mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}
