//! The ring, synthesized with the Web Audio API (no sound file to load). Browser only.
use web_sys::{AudioContext, AudioContextState, OscillatorType};

pub struct Ringer {
    ctx: Option<AudioContext>,
}

impl Default for Ringer {
    fn default() -> Self {
        Self { ctx: AudioContext::new().ok() }
    }
}

impl Ringer {
    /// Whether the browser lets us play sound now.
    pub fn unlocked(&self) -> bool {
        self.ctx.as_ref().is_some_and(|c| c.state() == AudioContextState::Running)
    }

    /// Call from a user gesture: browsers only start audio after one.
    pub fn unlock(&self) {
        if let Some(c) = &self.ctx {
            let _ = c.resume();
        }
    }

    /// Plays a short two-tone ring. Returns whether it could play.
    pub fn ring(&self) -> bool {
        let Some(ctx) = self.ctx.as_ref().filter(|_| self.unlocked()) else { return false };
        let start = ctx.current_time();
        for (i, freq) in [880.0f32, 660.0, 880.0, 660.0].into_iter().enumerate() {
            let t = start + i as f64 * 0.18;
            let (Ok(osc), Ok(gain)) = (ctx.create_oscillator(), ctx.create_gain()) else { return false };
            osc.set_type(OscillatorType::Sine);
            osc.frequency().set_value(freq);
            let g = gain.gain();
            let _ = g.set_value_at_time(0.0, t);
            let _ = g.linear_ramp_to_value_at_time(0.2, t + 0.02);
            let _ = g.linear_ramp_to_value_at_time(0.0, t + 0.16);
            let _ = osc.connect_with_audio_node(&gain);
            let _ = gain.connect_with_audio_node(&ctx.destination());
            let _ = osc.start_with_when(t);
            let _ = osc.stop_with_when(t + 0.17);
        }
        // A counter on <body data-rings> lets tests (and curious agents) see that it rang.
        if let Some(body) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.body()) {
            let n = body.dataset().get("rings").and_then(|v| v.parse::<u32>().ok()).unwrap_or(0);
            let _ = body.dataset().set("rings", &(n + 1).to_string());
        }
        true
    }
}
