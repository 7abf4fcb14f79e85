/** A QR code drawn as inline SVG (no image fetch, no data: URL), e.g. an enrolment token or a TOTP secret. */
import QRCode from 'qrcode';
import { useEffect, useState } from 'preact/hooks';

export function QrCode(props: { text: string; label: string; size?: number }) {
  const [svg, setSvg] = useState('');
  useEffect(() => {
    let live = true;
    void QRCode.toString(props.text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2, width: props.size ?? 220 }).then((s) => live && setSvg(s));
    return () => void (live = false);
  }, [props.text, props.size]);
  return <div class="qr" role="img" aria-label={props.label} data-qr-text={props.text} dangerouslySetInnerHTML={{ __html: svg }} />;
}
