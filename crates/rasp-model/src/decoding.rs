//! Autoregressive decoding with a key/value cache (decoder mode,
//! semantics.md §6).
//!
//! Under a causal mask no position attends to a later one, so appending a
//! token changes nothing computed for the earlier positions: their keys and
//! values in every layer stay valid. [`Decoder::push`] therefore runs only
//! the new position through the layers, attending to the cached keys and
//! values, in O(layers · heads · n) per token instead of a forward pass over
//! the whole sequence. A prefix-LM model's prefix attends forward inside the
//! prefix, so while the sequence is no longer than the prefix every push
//! recomputes the whole sequence (and then caches it). A bidirectional
//! model cannot be decoded this way: [`Decoder::new`] refuses it.

use crate::{Decoded, KeysValues, Model, ModelError, softmax_rows};
use ndarray::{Array2, Axis, concatenate, s};

/// A sequence being decoded: the token ids so far (start token and BOS
/// included), the cached keys and values of every position, and the last
/// position's decoded output.
pub struct Decoder<'m> {
    model: &'m Model,
    ids: Vec<u32>,
    keys_values: KeysValues,
    last: Decoded,
    /// Positions computed from the cache alone.
    cached: usize,
}

impl<'m> Decoder<'m> {
    /// Starts decoding from `ids` (as [`Model::encode`] gives them): one
    /// forward pass over the prompt, keeping its keys and values.
    pub fn new(model: &'m Model, ids: &[u32]) -> Result<Decoder<'m>, ModelError> {
        if !model.config.causal {
            return Err(ModelError::Input(
                "the model is not causal (compile it with --causal to decode with a cache)".to_string(),
            ));
        }
        let mut decoder = Decoder {
            model,
            ids: Vec::new(),
            keys_values: Vec::new(),
            last: Decoded { value: crate::Scalar::Int(0), margin: 0.0 },
            cached: 0,
        };
        decoder.recompute(ids.to_vec())?;
        Ok(decoder)
    }

    /// The token ids so far.
    pub fn ids(&self) -> &[u32] {
        &self.ids
    }

    /// The decoded output at the last position.
    pub fn last(&self) -> &Decoded {
        &self.last
    }

    /// How many positions [`Decoder::push`] computed from the cache alone
    /// (the others: the prompt, and pushes inside a prefix-LM prefix, ran
    /// full forward passes).
    pub fn cached(&self) -> usize {
        self.cached
    }

    fn recompute(&mut self, ids: Vec<u32>) -> Result<(), ModelError> {
        let mut keys_values = Vec::new();
        let x = self.model.forward_equal(
            &crate::sparse::sparse_layers(self.model),
            &[ids.as_slice()],
            None,
            Some(&mut keys_values),
        )?;
        let last = x.slice(s![x.nrows() - 1.., ..]).dot(&self.model.unembed);
        self.last = self.model.decode_row(&last.row(0).to_vec());
        self.ids = ids;
        self.keys_values = keys_values;
        Ok(())
    }

    /// Appends token `id` and computes its position's output from the
    /// cache.
    pub fn push(&mut self, id: u32) -> Result<&Decoded, ModelError> {
        let model = self.model;
        let position = self.ids.len();
        if position >= model.position_embedding.nrows() {
            return Err(ModelError::Input(format!(
                "the model was compiled for at most {} tokens",
                model.config.max_len
            )));
        }
        if id as usize >= model.token_embedding.nrows() || id == 0 {
            return Err(ModelError::Input(format!("token id {id} out of range")));
        }
        // Inside a prefix-LM prefix earlier positions attend to this one.
        if model.config.prefix_len.is_some_and(|length| position < length + 1) {
            let mut ids = self.ids.clone();
            ids.push(id);
            self.recompute(ids)?;
            return Ok(&self.last);
        }
        let mut x =
            (&model.token_embedding.row(id as usize) + &model.position_embedding.row(position)).insert_axis(Axis(0));
        for (layer, cached) in model.layers.iter().zip(self.keys_values.iter_mut()) {
            let mut update = Array2::<f32>::zeros(x.raw_dim());
            for (head, (keys, values)) in layer.heads.iter().zip(cached.iter_mut()) {
                let q = x.dot(&head.w_q);
                *keys = concatenate(Axis(0), &[keys.view(), x.dot(&head.w_k).view()])
                    .map_err(|e| ModelError::Format(format!("cached keys: {e}")))?;
                *values = concatenate(Axis(0), &[values.view(), x.dot(&head.w_v).view()])
                    .map_err(|e| ModelError::Format(format!("cached values: {e}")))?;
                let mut logits = q.dot(&keys.t());
                logits *= head.scale;
                // The new position is the last: it sees every cached key.
                softmax_rows(&mut logits);
                update += &logits.dot(values).dot(&head.w_o);
            }
            x += &update;
            if let Some(mlp) = &layer.mlp {
                let mut hidden = x.dot(&mlp.w_in);
                hidden.mapv_inplace(|h| h.max(0.0));
                x += &hidden.dot(&mlp.w_out);
            }
        }
        self.ids.push(id);
        self.cached += 1;
        let scores = x.dot(&model.unembed);
        self.last = model.decode_row(&scores.row(0).to_vec());
        Ok(&self.last)
    }
}
