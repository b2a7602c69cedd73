//! Delivery analytics as a bar chart: each day's sent, submitted, delivered, read and failed
//! deliveries as a group of bars, laid out here (pure geometry) and drawn as SVG by the
//! analytics template, beside a table of the same numbers.

use std::collections::BTreeMap;

use herald_proto::v1::{DeliveryStats, GetDeliveryStatsResponse};
use serde::Serialize;

/// The series, in the order each day's bars are drawn.
pub(crate) const SERIES: [&str; 5] = ["sent", "submitted", "delivered", "read", "failed"];

const PLOT_HEIGHT: u32 = 180;
const TOP: u32 = 12;
const LEFT: u32 = 56;
/// The widest the plot gets: a long period draws thinner bars rather than scroll.
const PLOT_WIDTH: u32 = 1040;
const BAR: u32 = 12;

#[derive(Debug, Serialize)]
pub(crate) struct Chart {
    pub width: u32,
    pub height: u32,
    /// The x axis's baseline.
    pub base: u32,
    pub max: u64,
    pub bars: Vec<Bar>,
    pub days: Vec<DayLabel>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Bar {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
    pub series: &'static str,
    pub value: u64,
    pub day: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct DayLabel {
    pub x: u32,
    pub day: String,
    pub shown: bool,
}

/// One day's counts, in [`SERIES`] order.
pub(crate) type DayCounts = (String, [u64; 5]);

fn counts(stats: &DeliveryStats) -> [u64; 5] {
    [
        stats.sent,
        stats.submitted,
        stats.delivered,
        stats.read,
        stats.failed,
    ]
}

/// Every day's counts over all providers, in day order: each of `period`'s days (YYYY-MM-DD),
/// with nothing sent as zeros, and any other day the answer has.
pub(crate) fn per_day(response: &GetDeliveryStatsResponse, period: &[String]) -> Vec<DayCounts> {
    let mut days: BTreeMap<&str, [u64; 5]> = period.iter().map(|d| (d.as_str(), [0; 5])).collect();
    for day in &response.days {
        let total = days.entry(&day.day).or_default();
        let add = counts(&day.stats.unwrap_or_default());
        for (sum, n) in total.iter_mut().zip(add) {
            *sum += n;
        }
    }
    days.into_iter().map(|(d, c)| (d.to_owned(), c)).collect()
}

/// The chart of `days`: bars scaled so the largest count fills the plot.
pub(crate) fn lay_out(days: &[DayCounts]) -> Chart {
    let max = days
        .iter()
        .flat_map(|(_, c)| c.iter().copied())
        .max()
        .unwrap_or(0);
    let n = u32::try_from(days.len().max(1)).unwrap_or(u32::MAX);
    let series = SERIES.len() as u32;
    // Each day's group: its bars side by side and a gap, as wide as fits the plot.
    let bar = (PLOT_WIDTH / n / (series + 1)).clamp(1, BAR);
    let gap = (bar * 3 / 2).max(2);
    let group = bar * series + gap;
    let base = TOP + PLOT_HEIGHT;
    let mut bars = Vec::new();
    let mut labels = Vec::new();
    for (i, (day, values)) in days.iter().enumerate() {
        let left = LEFT + gap / 2 + group * i as u32;
        labels.push(DayLabel {
            x: left + bar * series / 2,
            day: day.clone(),
            // A label every few days when they would overlap.
            shown: i % (40 / group.max(1) as usize + 1) == 0,
        });
        for (j, (series, value)) in SERIES.iter().zip(values).enumerate() {
            let height = (u64::from(PLOT_HEIGHT) * value)
                .checked_div(max)
                .map_or(0, |h| u32::try_from(h).unwrap_or(PLOT_HEIGHT));
            bars.push(Bar {
                x: left + bar * j as u32,
                y: base - height,
                width: bar.saturating_sub(1).max(1),
                height,
                series,
                value: *value,
                day: day.clone(),
            });
        }
    }
    Chart {
        width: LEFT + group * n + gap,
        height: base + 28,
        base,
        max,
        bars,
        days: labels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_proto::v1::{DailyDeliveryStats, Provider};

    fn day(day: &str, provider: Provider, sent: u64, read: u64) -> DailyDeliveryStats {
        DailyDeliveryStats {
            day: day.into(),
            provider: provider as i32,
            stats: Some(DeliveryStats {
                sent,
                read,
                ..Default::default()
            }),
        }
    }

    #[test]
    fn providers_add_up_per_day_and_the_largest_count_fills_the_plot() {
        let response = GetDeliveryStatsResponse {
            days: vec![
                day("2026-11-30", Provider::Fcm, 4, 1),
                day("2026-11-30", Provider::Apns, 6, 2),
                day("2026-12-01", Provider::Fcm, 5, 5),
            ],
            total: None,
        };
        let period = ["2026-11-29".to_owned(), "2026-11-30".to_owned()];
        let days = per_day(&response, &period);
        assert_eq!(
            days,
            vec![
                ("2026-11-29".to_owned(), [0; 5]),
                ("2026-11-30".to_owned(), [10, 0, 0, 3, 0]),
                ("2026-12-01".to_owned(), [5, 0, 0, 5, 0]),
            ]
        );
        let chart = lay_out(&days);
        assert_eq!(chart.max, 10);
        assert_eq!(chart.bars.len(), 15);
        let tallest = &chart.bars[5];
        assert_eq!((tallest.height, tallest.y), (PLOT_HEIGHT, TOP));
        let half = &chart.bars[10];
        assert_eq!((half.series, half.height), ("sent", PLOT_HEIGHT / 2));
        assert!(chart.bars.iter().all(|b| b.y + b.height == chart.base));
        assert!(chart.bars.iter().all(|b| b.x + b.width < chart.width));
    }

    #[test]
    fn a_long_period_fits_the_plot_with_thinner_bars() {
        let days: Vec<DayCounts> = (0..90).map(|d| (format!("day {d}"), [d; 5])).collect();
        let chart = lay_out(&days);
        assert!(chart.width <= LEFT + PLOT_WIDTH + 30, "{}", chart.width);
        assert!(chart.bars.iter().all(|b| b.width >= 1));
        assert!(chart.days.iter().filter(|d| d.shown).count() < 90);
    }

    #[test]
    fn no_deliveries_draw_no_bars_of_height() {
        let chart = lay_out(&[("2026-12-01".to_owned(), [0; 5])]);
        assert!(chart.bars.iter().all(|b| b.height == 0));
        assert!(lay_out(&[]).bars.is_empty());
    }
}
