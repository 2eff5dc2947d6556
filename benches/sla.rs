//! deadline and elapsed on the default calendar for targets of 1 h, 6 h and 200 business
//! hours, from starts spread over a year (so year tables are warm but lookups vary).

use chrono::{DateTime, Duration, Utc};
use criterion::{BenchmarkId, Criterion, Throughput, black_box, criterion_group, criterion_main};
use helpdesk::sla::Calendar;

fn starts() -> Vec<DateTime<Utc>> {
    let first: DateTime<Utc> = "2016-01-04T07:13:00Z".parse().unwrap();
    (0..1024)
        .map(|i| first + Duration::seconds(i * 30_817))
        .collect()
}

fn deadline_and_elapsed(c: &mut Criterion) {
    let calendar = Calendar::italian_default();
    let starts = starts();
    for start in &starts {
        calendar.deadline(*start, 200 * 3600).unwrap(); // warm the year tables
    }
    let mut group = c.benchmark_group("default calendar");
    group.throughput(Throughput::Elements(1));
    for hours in [1i64, 6, 200] {
        group.bench_with_input(
            BenchmarkId::new("deadline", format!("{hours}h")),
            &hours,
            |b, &hours| {
                let mut i = 0;
                b.iter(|| {
                    i = (i + 1) % starts.len();
                    black_box(
                        calendar
                            .deadline(black_box(starts[i]), hours * 3600)
                            .unwrap(),
                    )
                })
            },
        );
        let ends: Vec<_> = starts
            .iter()
            .map(|s| calendar.deadline(*s, hours * 3600).unwrap())
            .collect();
        group.bench_with_input(
            BenchmarkId::new("elapsed", format!("{hours}h")),
            &hours,
            |b, _| {
                let mut i = 0;
                b.iter(|| {
                    i = (i + 1) % starts.len();
                    black_box(
                        calendar
                            .elapsed(black_box(starts[i]), black_box(ends[i]))
                            .unwrap(),
                    )
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, deadline_and_elapsed);
criterion_main!(benches);
