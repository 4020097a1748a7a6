//! Writes a sample application form to `sample.pdf` (for eyeballing the
//! layout): `cargo run -p paper --example sample [out.pdf]`.
use paper::{Block, Document, Font, Step};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let font = Font::load(paper::DEFAULT_FONT)?;
    let doc = Document {
        title: "住民票の写し等交付申請書".into(),
        lang: "ja".into(),
        footer: "四街道市　受付番号 2026-0000-0012".into(),
        blocks: vec![
            Block::Title("住民票の写し等交付申請書".into()),
            Block::Note("窓口で職員が入力しました。内容をご確認のうえ、署名してください。".into()),
            Block::Heading("申請内容".into()),
            Block::Rows(vec![
                ("氏名".into(), "四街道 花子".into()),
                ("フリガナ".into(), "ヨツカイドウ ハナコ".into()),
                ("生年月日".into(), "昭和60年4月1日".into()),
                ("住所".into(), "千葉県四街道市鹿渡無番地　四街道市役所前マンション101号室、長い住所の折り返しを確認するための文字列です。".into()),
                ("Purpose (English)".into(), "Submission to an employer for a change of address and the family allowance".into()),
            ]),
            Block::Steps(vec![
                Step { title: "市民課 1番窓口：転入届".into(), lines: vec!["持ち物：転出証明書、本人確認書類".into()] },
                Step { title: "国保年金課 5番窓口：国民健康保険の加入".into(), lines: vec!["持ち物：マイナンバーカード".into()] },
            ]),
            Block::Signature { label: "署名".into(), strokes: vec![vec![(10.0, 150.0), (120.0, 40.0), (200.0, 160.0), (320.0, 60.0)]], width: 600.0, height: 200.0 },
            Block::SignHere("紙に署名する場合はこちら".into()),
        ],
    };
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "sample.pdf".into());
    std::fs::write(&out, paper::render(&font, &doc)?)?;
    Ok(())
}
