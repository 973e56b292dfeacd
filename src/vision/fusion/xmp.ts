// XMP packet marking a fused image as AI-composited (IPTC DigitalSourceType), plus the
// caller's FuseParam.ImageCodecParam.MetaData key/value.
export const DIGITAL_SOURCE_TYPE = 'http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia';
export const FACEVAULT_NS = 'https://github.com/facevault/ns/fusion/1.0/';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function fusionXmp(meta: { key: string; value: string }[] = []): string {
  const items = meta.map((m) => `<rdf:li rdf:parseType="Resource"><fv:MetaKey>${esc(m.key)}</fv:MetaKey><fv:MetaValue>${esc(m.value)}</fv:MetaValue></rdf:li>`).join('');
  return '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>'
    + '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    + `<rdf:Description rdf:about="" xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" xmlns:fv="${FACEVAULT_NS}">`
    + `<Iptc4xmpExt:DigitalSourceType>${DIGITAL_SOURCE_TYPE}</Iptc4xmpExt:DigitalSourceType>`
    + (items ? `<fv:MetaData><rdf:Bag>${items}</rdf:Bag></fv:MetaData>` : '')
    + '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>';
}
