//! The transcript a visitor can ask for by e-mail once their conversation has ended (issue 23):
//! plain text, oldest first, each message as their widget showed it. Only messages: agents'
//! private notes are not messages, and never reach this text.
use crate::wire::{Author, MessageDto, MessageExtra};

/// The e-mail's subject.
pub fn transcript_subject(org_name: &str) -> String {
    format!("Your conversation with {org_name}")
}

/// The e-mail's body; `when` writes a message's time.
pub fn transcript_text(messages: &[MessageDto], ai_name: &str, org_name: &str, when: impl Fn(i64) -> String) -> String {
    let mut body = format!("Your conversation with {org_name}, as it was when it ended.\n\n");
    for m in messages {
        let who = match (&m.author, &m.extra) {
            (Author::Visitor, MessageExtra::EmailForm { .. }) => "You (by e-mail)".to_string(),
            (Author::Visitor, _) => "You".to_string(),
            (Author::Ai, _) => format!("{ai_name} (AI)"),
            (Author::Agent { name, .. }, MessageExtra::EmailReply { .. }) => format!("{name} (by e-mail)"),
            (Author::Agent { name, .. }, _) => name.clone(),
            (Author::System, _) => String::new(),
        };
        let text = match &m.extra {
            MessageExtra::File { attachment } => crate::chat_files::in_transcript(attachment),
            _ => m.text.trim_end().to_string(),
        };
        if who.is_empty() {
            body.push_str(&format!("[{}] {text}\n\n", when(m.created_at)));
        } else {
            body.push_str(&format!("[{}] {who}:\n{text}\n\n", when(m.created_at)));
        }
    }
    body.push_str("You get this e-mail because you asked for the transcript in the chat.\n");
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::message as msg;

    #[test]
    fn each_message_says_who_wrote_it_as_the_widget_did() {
        let m = [
            msg(1, Author::Ai, "Hi! I'm Ada."),
            msg(2, Author::Visitor, "Where is my parcel?"),
            msg(3, Author::System, "Ann Agent joined the chat."),
            msg(4, Author::Agent { id: "u".into(), name: "Ann Agent".into() }, "It left today.\n"),
        ];
        let mut file = msg(5, Author::Visitor, "parcel.png");
        file.extra = MessageExtra::File {
            attachment: crate::wire::AttachmentDto {
                id: "a1".into(),
                name: "parcel.png".into(),
                content_type: "image/png".into(),
                size: 3000,
            },
        };
        let m = [m[0].clone(), m[1].clone(), m[2].clone(), m[3].clone(), file];
        let body = transcript_text(&m, "Ada", "Demo Org", |t| format!("t{t}"));
        assert!(body.contains("[t5] You:\n[file: parcel.png (3 KB)]\n\n"), "{body}");
        assert!(body.starts_with("Your conversation with Demo Org"), "{body}");
        assert!(body.contains("[t1] Ada (AI):\nHi! I'm Ada.\n\n"), "{body}");
        assert!(body.contains("[t2] You:\nWhere is my parcel?\n\n"), "{body}");
        assert!(body.contains("[t3] Ann Agent joined the chat.\n\n"), "{body}");
        assert!(body.contains("[t4] Ann Agent:\nIt left today.\n\n"), "{body}");
        assert_eq!(transcript_subject("Demo Org"), "Your conversation with Demo Org");
    }
}
