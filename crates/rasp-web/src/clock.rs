//! Milliseconds for the phases of a run, shown by the page and its bench:
//! `performance.now()` in the browser (std's clock panics on
//! wasm32-unknown-unknown), `Instant` natively.

#[cfg(target_arch = "wasm32")]
mod source {
    use wasm_bindgen::prelude::wasm_bindgen;

    #[wasm_bindgen]
    extern "C" {
        #[wasm_bindgen(js_namespace = performance, js_name = now)]
        fn performance_now() -> f64;
    }

    pub fn now_ms() -> f64 {
        performance_now()
    }
}

#[cfg(not(target_arch = "wasm32"))]
mod source {
    use std::sync::OnceLock;
    use std::time::Instant;

    static START: OnceLock<Instant> = OnceLock::new();

    pub fn now_ms() -> f64 {
        START.get_or_init(Instant::now).elapsed().as_secs_f64() * 1000.0
    }
}

/// Times consecutive phases: each [`Phases::end`] closes the phase that
/// started at the previous one (or at [`Phases::start`]).
pub struct Phases {
    last: f64,
    done: Vec<(&'static str, f64)>,
}

impl Phases {
    /// Starts timing the first phase now.
    pub fn start() -> Phases {
        Phases { last: source::now_ms(), done: Vec::new() }
    }

    /// Ends the current phase under `name` and starts the next.
    pub fn end(&mut self, name: &'static str) {
        let now = source::now_ms();
        self.done.push((name, now - self.last));
        self.last = now;
    }

    /// The phases so far as a JSON object of milliseconds (0.1 ms steps).
    pub fn to_json(&self) -> serde_json::Value {
        let fields =
            self.done.iter().map(|(name, ms)| (name.to_string(), serde_json::json!((ms * 10.0).round() / 10.0)));
        serde_json::Value::Object(fields.collect())
    }
}
