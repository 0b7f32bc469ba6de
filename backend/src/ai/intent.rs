//! Recognising what a visitor wants without a model: a request for a human (in English, German,
//! French and Spanish), greetings and thanks. Text is lower-cased, accents are folded and it is
//! split into words, so phrases match whole words only ("human" does not match "humane").

/// Phrases that ask for a person. Each is a sequence of whole (accent-folded) words.
const HUMAN_PHRASES: &[&str] = &[
    // English
    "human",
    "humans",
    "real person",
    "to a person",
    "with a person",
    "actual person",
    "live person",
    "agent please",
    "an agent",
    "real agent",
    "live agent",
    "human agent",
    "support agent",
    "customer service",
    "operator",
    "representative",
    "talk to someone",
    "speak to someone",
    "speak with someone",
    "talk with someone",
    "talk to somebody",
    "speak to somebody",
    "someone real",
    "live chat",
    "live support",
    // German
    "mensch",
    "menschen",
    "echte person",
    "echten person",
    "echter person",
    "mitarbeiter",
    "mitarbeiterin",
    "kundendienst",
    "kundenservice",
    "berater",
    "beraterin",
    "ansprechpartner",
    "sachbearbeiter",
    "mit jemandem sprechen",
    "mit jemandem reden",
    "mit einer person",
    // French
    "humain",
    "humaine",
    "vraie personne",
    "personne reelle",
    "a une personne",
    "conseiller",
    "conseillere",
    "un agent",
    "service client",
    "parler a quelqu un",
    "parler a quelqu'un",
    "operateur",
    // Spanish
    "humano",
    "humana",
    "persona real",
    "con una persona",
    "un agente",
    "agente humano",
    "asesor",
    "asesora",
    "operador",
    "operadora",
    "atencion al cliente",
    "hablar con alguien",
];

/// A message made only of these words (and at least one of the first group) asks for a human:
/// "agent!", "person please", "Agent bitte".
const ALONE: &[&str] = &["agent", "agente", "person", "personne", "persona", "people"];
const FILLER: &[&str] = &[
    "please", "pls", "plz", "now", "a", "an", "the", "bitte", "einen", "eine", "svp", "stp", "un", "une", "por",
    "favor", "i", "want", "need", "ich", "will", "je", "veux", "quiero", "necesito",
];

const GREETINGS: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "hallo",
    "moin",
    "servus",
    "bonjour",
    "salut",
    "hola",
    "buenas",
    "good morning",
    "good afternoon",
    "good evening",
    "guten tag",
    "guten morgen",
];
const THANKS: &[&str] = &[
    "thanks",
    "thank you",
    "thx",
    "ty",
    "danke",
    "vielen dank",
    "merci",
    "gracias",
    "cheers",
    "great thanks",
    "ok thanks",
    "perfect thanks",
];

/// Lower-cases, folds common accents and splits into words.
pub fn words(text: &str) -> Vec<String> {
    let folded: String = text
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ä' | 'ã' | 'å' => 'a',
            'è' | 'é' | 'ê' | 'ë' => 'e',
            'ì' | 'í' | 'î' | 'ï' => 'i',
            'ò' | 'ó' | 'ô' | 'ö' | 'õ' => 'o',
            'ù' | 'ú' | 'û' | 'ü' => 'u',
            'ñ' => 'n',
            'ç' => 'c',
            'ß' => 's',
            c if c.is_alphanumeric() || c == '\'' => c,
            _ => ' ',
        })
        .collect();
    folded.split_whitespace().map(|w| w.trim_matches('\'').to_string()).filter(|w| !w.is_empty()).collect()
}

fn contains_phrase(words: &[String], phrase: &str) -> bool {
    let p: Vec<&str> = phrase.split([' ', '\'']).filter(|s| !s.is_empty()).collect();
    !p.is_empty() && words.windows(p.len()).any(|w| w.iter().zip(&p).all(|(a, b)| a == b))
}

fn split_apostrophes(text: &str) -> Vec<String> {
    words(text).into_iter().flat_map(|w| w.split('\'').map(str::to_owned).collect::<Vec<_>>()).collect()
}

/// Does the visitor ask for a person?
pub fn wants_human(text: &str) -> bool {
    let w = split_apostrophes(text);
    if HUMAN_PHRASES.iter().any(|p| contains_phrase(&w, p)) {
        return true;
    }
    !w.is_empty()
        && w.iter().any(|x| ALONE.contains(&x.as_str()))
        && w.iter().all(|x| ALONE.contains(&x.as_str()) || FILLER.contains(&x.as_str()))
}

/// What kind of small talk a message is, if it is nothing more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmallTalk {
    Greeting,
    Thanks,
}

pub fn small_talk(text: &str) -> Option<SmallTalk> {
    let w = words(text);
    let joined = w.join(" ");
    let is = |list: &[&str]| list.iter().any(|p| joined == *p || (w.len() <= 3 && contains_phrase(&w, p)));
    if w.len() > 4 {
        None
    } else if is(THANKS) {
        Some(SmallTalk::Thanks)
    } else if is(GREETINGS) {
        Some(SmallTalk::Greeting)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_for_a_human_in_four_languages() {
        for q in [
            "I want to talk to a human",
            "Can I speak to a real person?",
            "agent please",
            "AGENT!",
            "customer service",
            "Ich möchte mit einem Mitarbeiter sprechen",
            "Kann ich mit einem Menschen reden?",
            "echte Person bitte",
            "Je voudrais parler à un conseiller",
            "je veux parler à quelqu'un",
            "une vraie personne svp",
            "Quiero hablar con un humano",
            "¿Puedo hablar con una persona real?",
            "hablar con alguien por favor",
        ] {
            assert!(wants_human(q), "{q}");
        }
    }

    #[test]
    fn ordinary_questions_are_not_requests_for_a_human() {
        for q in [
            "What are your opening hours?",
            "Is the packaging humane?",
            "How many items can a person order?",
            "¿Qué agente de transporte usan?",
            "How much does shipping cost?",
            "Wie teuer ist der Versand?",
            "Où est ma commande ?",
            "¿Cuánto cuesta el envío?",
            "",
        ] {
            assert!(!wants_human(q), "{q}");
        }
    }

    #[test]
    fn small_talk_is_recognised_only_alone() {
        assert_eq!(small_talk("Hi!"), Some(SmallTalk::Greeting));
        assert_eq!(small_talk("Bonjour"), Some(SmallTalk::Greeting));
        assert_eq!(small_talk("thank you!"), Some(SmallTalk::Thanks));
        assert_eq!(small_talk("Danke"), Some(SmallTalk::Thanks));
        assert_eq!(small_talk("hi, how much does shipping cost to Austria?"), None);
    }
}
