//! "Did you mean": the known name closest to a misspelt one, and the names other tools
//! use for the same thing (`linear`, `dense` for `affine`).

/// The candidate closest to `word` by edit distance, if it is close enough to be a
/// plausible misspelling (at most one edit per three characters, at least one).
pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .iter()
        .map(|&c| (strsim::damerau_levenshtein(&lower, c), c))
        .filter(|&(distance, _)| distance <= limit)
        .min_by_key(|&(distance, _)| distance)
        .map(|(_, c)| c)
}

/// The language's name for a layer kind that other frameworks call `word`.
pub(crate) fn kind_alias(word: &str) -> Option<&'static str> {
    match word.to_ascii_lowercase().as_str() {
        "linear" | "dense" | "fc" | "fully_connected" | "gemm" | "matmul" => Some("affine"),
        "conv2d" | "convolution" | "convolution2d" | "conv_2d" => Some("conv"),
        "maxpool2d" | "max_pool" | "max_pool2d" | "maxpooling2d" | "pool" | "pooling" => {
            Some("maxpool")
        }
        "reshape" | "flat" | "view" => Some("flatten"),
        _ => None,
    }
}

/// The option of a `kind` layer that other frameworks call `word` (`padding` for
/// `pad`; `kernel_size` for a pooling layer's `size`).
pub(crate) fn option_alias(kind: &str, word: &str) -> Option<&'static str> {
    match (kind, word.to_ascii_lowercase().as_str()) {
        ("conv", "kernel_size" | "filter" | "filter_size" | "k" | "ksize") => Some("kernel"),
        ("conv", "padding") => Some("pad"),
        ("conv" | "maxpool", "strides" | "step") => Some("stride"),
        ("maxpool", "kernel" | "kernel_size" | "pool" | "pool_size" | "window" | "k") => {
            Some("size")
        }
        _ => None,
    }
}

/// The language's name for a loss that other frameworks call `word`.
pub(crate) fn loss_alias(word: &str) -> Option<&'static str> {
    match word.to_ascii_lowercase().as_str() {
        "crossentropy"
        | "ce"
        | "nll"
        | "categorical_crossentropy"
        | "softmax_cross_entropy"
        | "cross_entropy_loss"
        | "softmaxwithloss"
        | "log_loss" => Some("cross_entropy"),
        "mean_squared_error" | "squared_error" | "squared_loss" | "l2" | "mseloss" => Some("mse"),
        _ => None,
    }
}

/// The language's name for an activation that other frameworks call `word`.
pub(crate) fn activation_alias(word: &str) -> Option<&'static str> {
    match word.to_ascii_lowercase().as_str() {
        "linear" | "none" | "id" => Some("identity"),
        "logistic" | "sigm" => Some("sigmoid"),
        "heaviside" | "threshold" => Some("step"),
        "leakyrelu" | "leaky" | "lrelu" => Some("leaky_relu"),
        "soft_max" => Some("softmax"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_close_names_and_rejects_far_ones() {
        let names = [
            "identity",
            "step",
            "sigmoid",
            "relu",
            "leaky_relu",
            "tanh",
            "softmax",
        ];
        assert_eq!(closest("sigmoidd", &names), Some("sigmoid"));
        assert_eq!(closest("Sigmoid", &names), Some("sigmoid"));
        assert_eq!(closest("rleu", &names), Some("relu"));
        assert_eq!(closest("softmx", &names), Some("softmax"));
        assert_eq!(closest("convolution", &names), None);
        assert_eq!(closest("afine", &["affine"]), Some("affine"));
    }

    #[test]
    fn knows_other_frameworks_names() {
        assert_eq!(kind_alias("Linear"), Some("affine"));
        assert_eq!(activation_alias("logistic"), Some("sigmoid"));
        assert_eq!(kind_alias("Conv2d"), Some("conv"));
        assert_eq!(kind_alias("MaxPool2d"), Some("maxpool"));
        assert_eq!(kind_alias("lstm"), None);
        assert_eq!(option_alias("maxpool", "kernel"), Some("size"));
        assert_eq!(option_alias("conv", "padding"), Some("pad"));
        assert_eq!(option_alias("affine", "padding"), None);
    }
}
