use super::*;

#[test]
fn a_sandbox_message_is_validated_against_its_run_prefix() {
    let sandbox = Layout::Sandbox("binance.extraction");
    assert_eq!(
        sandbox.of("_nats_doctor.Ab12.binance.extraction.klines.BTCUSDT.15m"),
        "_nats_doctor.Ab12.binance.extraction"
    );
    // Not under a run's prefix: the configured prefix, whose layout it then fails.
    assert_eq!(
        sandbox.of("_nats_doctor.Ab12.binance.extractionX.klines.BTCUSDT.15m"),
        "binance.extraction"
    );
    assert_eq!(
        sandbox.of("_nats_doctor..binance.extraction.klines"),
        "binance.extraction"
    );
    let configured = Layout::Prefix("binance.extraction");
    assert_eq!(
        configured.of("_nats_doctor.Ab12.binance.extraction.klines.BTCUSDT.15m"),
        "binance.extraction"
    );
}
