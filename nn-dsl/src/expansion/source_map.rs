//! The macro's tokens as `.nn` text, with the byte range of each token, so that a
//! diagnostic's byte range can be mapped back to the tokens (and their spans) that the
//! user wrote. Stable Rust cannot join spans, so a range becomes its first and last
//! token's spans.

use proc_macro2::{Delimiter, Spacing, Span, TokenStream, TokenTree};

/// The text of a token stream and where each token stands in it.
pub(crate) struct SourceMap {
    /// The tokens, separated by spaces (none after a joint punctuation mark, so that
    /// `->` stays one arrow).
    pub text: String,
    /// `(start, end, span)` of each token in `text`, in order.
    tokens: Vec<(usize, usize, Span)>,
}

impl SourceMap {
    /// Renders `input`.
    pub fn new(input: TokenStream) -> Self {
        let mut map = SourceMap {
            text: String::new(),
            tokens: Vec::new(),
        };
        map.render(input);
        map
    }

    fn push(&mut self, text: &str, span: Span, joint: bool) {
        let start = self.text.len();
        self.text.push_str(text);
        self.tokens.push((start, self.text.len(), span));
        if !joint {
            self.text.push(' ');
        }
    }

    fn render(&mut self, input: TokenStream) {
        let tokens: Vec<TokenTree> = input.into_iter().collect();
        let mut rest = &tokens[..];
        while let Some((token, after)) = rest.split_first() {
            if let Some(comment) = doc_comment_len(rest) {
                rest = &rest[comment..];
                continue;
            }
            rest = after;
            match token {
                TokenTree::Group(group) => {
                    let (open, close) = match group.delimiter() {
                        Delimiter::Parenthesis => ("(", ")"),
                        Delimiter::Brace => ("{", "}"),
                        Delimiter::Bracket => ("[", "]"),
                        Delimiter::None => ("", ""),
                    };
                    if !open.is_empty() {
                        self.push(open, group.span_open(), false);
                    }
                    self.render(group.stream());
                    if !close.is_empty() {
                        self.push(close, group.span_close(), false);
                    }
                }
                TokenTree::Punct(p) => {
                    let joint = p.spacing() == Spacing::Joint;
                    self.push(p.as_char().encode_utf8(&mut [0; 4]), p.span(), joint);
                }
                TokenTree::Ident(ident) => self.push(&ident.to_string(), ident.span(), false),
                TokenTree::Literal(literal) => {
                    self.push(&literal.to_string(), literal.span(), false)
                }
            }
        }
    }

    /// The spans of the first and the last token that the byte range `start..end`
    /// touches; an empty range (such as the end of input) maps to the nearest token.
    pub fn spans(&self, start: usize, end: usize) -> (Span, Span) {
        let Some(&(_, _, last_span)) = self.tokens.last() else {
            return (Span::call_site(), Span::call_site());
        };
        let first = self.tokens.iter().find(|&&(_, e, _)| e > start);
        let last = self
            .tokens
            .iter()
            .rev()
            .find(|&&(s, _, _)| s < end.max(start + 1));
        match (first, last) {
            (Some(&(_, _, a)), Some(&(_, _, b))) => (a, b),
            (Some(&(_, _, a)), None) => (a, a),
            _ => (last_span, last_span),
        }
    }
}

/// How many tokens a doc comment at the start of `tokens` takes: `///` reaches a macro
/// as `#[doc = "..."]`, `//!` as `#![doc = "..."]`.
fn doc_comment_len(tokens: &[TokenTree]) -> Option<usize> {
    let is = |token: &TokenTree, c| matches!(token, TokenTree::Punct(p) if p.as_char() == c);
    match tokens {
        [hash, bang, doc, ..] if is(hash, '#') && is(bang, '!') && is_doc_attribute(doc) => Some(3),
        [hash, doc, ..] if is(hash, '#') && is_doc_attribute(doc) => Some(2),
        _ => None,
    }
}

fn is_doc_attribute(token: &TokenTree) -> bool {
    let TokenTree::Group(group) = token else {
        return false;
    };
    group.delimiter() == Delimiter::Bracket
        && matches!(group.stream().into_iter().next(), Some(TokenTree::Ident(i)) if i == "doc")
}
