//! The fuzzer's pseudo-random numbers: SplitMix64, a 64-bit state that
//! steps by a fixed odd constant and is mixed on output. Small, fast, and
//! the same stream for the same seed on every run.

/// The constant the state steps by (2^64 divided by the golden ratio, odd).
const GAMMA: u64 = 0x9e37_79b9_7f4a_7c15;
/// First multiplier of the output mix.
const MIX1: u64 = 0xbf58_476d_1ce4_e5b9;
/// Second multiplier of the output mix.
const MIX2: u64 = 0x94d0_49bb_1331_11eb;

/// A SplitMix64 generator.
pub struct Rng {
    state: u64,
}

impl Rng {
    /// The stream of vCPU `cpu` for `seed`: each vCPU of a run has its own,
    /// and the same seed gives the same streams.
    pub fn new(seed: u64, cpu: u64) -> Self {
        let mut rng = Rng {
            state: seed ^ cpu.wrapping_add(1).wrapping_mul(MIX2),
        };
        // Mix the start so that close seeds give unrelated streams.
        rng.next();
        rng
    }

    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GAMMA);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(MIX1);
        z = (z ^ (z >> 27)).wrapping_mul(MIX2);
        z ^ (z >> 31)
    }

    /// A number below `bound` (0 when `bound` is 0). The small bias of the
    /// modulo does not matter here.
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next().checked_rem(bound).unwrap_or(0)
    }

    /// True one time in `n` (never for 0).
    pub fn one_in(&mut self, n: u64) -> bool {
        n != 0 && self.below(n) == 0
    }

    /// A value a driver might write, or garbage: zero, all ones, a single
    /// bit, a small number, a byte pattern, or 64 random bits.
    pub fn value(&mut self) -> u64 {
        match self.below(8) {
            0 => 0,
            1 => u64::MAX,
            2 => 1 << self.below(64),
            3 => self.below(0x100),
            4 => self.next() & 0xffff_ffff,
            5 => (self.next() & 0xff).wrapping_mul(0x0101_0101_0101_0101),
            _ => self.next(),
        }
    }
}
