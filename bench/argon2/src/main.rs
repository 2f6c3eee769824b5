//! Prints the median milliseconds of one native argon2id hash over `SAMPLES` runs, as JSON.

use std::time::Instant;

const SAMPLES: usize = 15;

fn main() {
    argon2_bench::hash_n(2); // warm-up
    let mut times: Vec<f64> = (0..SAMPLES)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(argon2_bench::hash_n(1));
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!("{{\"median_ms\": {:.3}, \"samples\": {SAMPLES}}}", times[SAMPLES / 2]);
}
