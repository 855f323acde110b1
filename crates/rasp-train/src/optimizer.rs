//! AdamW (Loshchilov & Hutter 2019) with its state in the open.
//!
//! candle-nn has an AdamW, but its moment estimates are private, so a run
//! cut short could not be continued where it stopped: a checkpoint needs
//! them, and a resumed run that restarted them from zero would take
//! different steps than one that never stopped. This one keeps the
//! first and second moments as plain tensors a checkpoint can save and
//! restore (`crate::checkpoint`), and takes the same steps as the textbook
//! algorithm: decoupled weight decay, bias-corrected moments.

use candle_core::{Result, Tensor, Var};

/// The fixed hyper-parameters (the learning rate changes every step and
/// is set with [`AdamW::set_learning_rate`]).
#[derive(Debug, Clone, Copy)]
pub(crate) struct AdamWSettings {
    pub weight_decay: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub epsilon: f64,
}

impl AdamWSettings {
    /// The usual betas and epsilon (0.9, 0.999, 1e-8).
    pub fn with_weight_decay(weight_decay: f64) -> AdamWSettings {
        AdamWSettings { weight_decay, beta1: 0.9, beta2: 0.999, epsilon: 1e-8 }
    }
}

/// The optimiser of a list of parameters.
pub(crate) struct AdamW {
    params: Vec<Var>,
    /// The running mean of each parameter's gradient.
    first_moments: Vec<Tensor>,
    /// The running mean of each parameter's squared gradient.
    second_moments: Vec<Tensor>,
    /// Updates taken so far (the bias correction depends on it).
    updates: usize,
    learning_rate: f64,
    settings: AdamWSettings,
}

/// What a checkpoint keeps of an [`AdamW`].
pub(crate) struct AdamWState {
    pub first_moments: Vec<Tensor>,
    pub second_moments: Vec<Tensor>,
    pub updates: usize,
}

impl AdamW {
    /// Fresh moments (zeros) for every parameter.
    pub fn new(params: Vec<Var>, settings: AdamWSettings) -> Result<AdamW> {
        let zeros = |v: &Var| v.as_tensor().zeros_like();
        let first_moments = params.iter().map(zeros).collect::<Result<Vec<_>>>()?;
        let second_moments = params.iter().map(zeros).collect::<Result<Vec<_>>>()?;
        Ok(AdamW { params, first_moments, second_moments, updates: 0, learning_rate: 0.0, settings })
    }

    pub fn set_learning_rate(&mut self, learning_rate: f64) {
        self.learning_rate = learning_rate;
    }

    /// Back-propagates `loss` and updates every parameter that got a
    /// gradient.
    pub fn backward_step(&mut self, loss: &Tensor) -> Result<()> {
        let gradients = loss.backward()?;
        self.updates += 1;
        let AdamWSettings { weight_decay, beta1, beta2, epsilon } = self.settings;
        let exponent = i32::try_from(self.updates).unwrap_or(i32::MAX);
        let first_correction = 1.0 / (1.0 - beta1.powi(exponent));
        let second_correction = 1.0 / (1.0 - beta2.powi(exponent));
        for (i, param) in self.params.iter().enumerate() {
            let Some(gradient) = gradients.get(param.as_tensor()) else { continue };
            let first = ((&self.first_moments[i] * beta1)? + (gradient * (1.0 - beta1))?)?;
            let second = ((&self.second_moments[i] * beta2)? + (gradient.sqr()? * (1.0 - beta2))?)?;
            let step = ((&first * first_correction)? / ((&second * second_correction)?.sqrt()? + epsilon)?)?;
            let decayed = (param.as_tensor() * (1.0 - self.learning_rate * weight_decay))?;
            param.set(&(decayed - (step * self.learning_rate)?)?)?;
            self.first_moments[i] = first;
            self.second_moments[i] = second;
        }
        Ok(())
    }

    /// Copies of the moments and the update count.
    pub fn state(&self) -> Result<AdamWState> {
        let copy = |t: &Tensor| t.copy();
        Ok(AdamWState {
            first_moments: self.first_moments.iter().map(copy).collect::<Result<_>>()?,
            second_moments: self.second_moments.iter().map(copy).collect::<Result<_>>()?,
            updates: self.updates,
        })
    }

    /// Continues from a saved state of an optimiser over the same
    /// parameters (the shapes are checked).
    pub fn restore(&mut self, state: AdamWState) -> Result<()> {
        let same = |saved: &[Tensor]| {
            saved.len() == self.params.len() && saved.iter().zip(&self.params).all(|(s, p)| s.shape() == p.shape())
        };
        if !same(&state.first_moments) || !same(&state.second_moments) {
            candle_core::bail!("the optimiser state does not fit this model's parameters");
        }
        self.first_moments = state.first_moments;
        self.second_moments = state.second_moments;
        self.updates = state.updates;
        Ok(())
    }
}
