// A material image with its detected faces outlined and numbered (the TemplateFaceIDs). The
// frame has a fixed 4:3 box and the image is fitted inside it (container units), so nothing
// moves when it loads.
import { t } from '../i18n/index.ts';

export interface FaceBox { FaceId: string; FaceInfo: { X: number; Y: number; Width: number; Height: number } }

export function FaceImage({ src, width, height, faces, alt }: { src: string | null; width: number; height: number; faces: FaceBox[]; alt: string }) {
  const pct = (v: number, of: number) => `${(100 * v) / of}%`;
  return (
    <div class="frame">
    <figure class="faces" ref={(el) => { if (el) el.style.setProperty('--ar', String(width / height)); }}>
      {src ? <img src={src} alt={alt} width={width} height={height} /> : <div class="placeholder" aria-hidden="true" />}
      {faces.map((f) => (
        <span key={f.FaceId} class="face-box" aria-label={t('act.faceN', { id: f.FaceId })}
          ref={(el) => { if (el) Object.assign(el.style, { left: pct(f.FaceInfo.X, width), top: pct(f.FaceInfo.Y, height), width: pct(f.FaceInfo.Width, width), height: pct(f.FaceInfo.Height, height) }); }}>
          <span class="face-num">{f.FaceId}</span>
        </span>
      ))}
    </figure>
    </div>
  );
}
