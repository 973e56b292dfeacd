// The video engine's public entry points (services import from here).
export { probeVideo, decodeFrames, VideoWriter, MediaError, mediaLibrary, type VideoInfo, type AudioInfo, type DecodedFrame } from './media.ts';
export { iou } from '../face-pick.ts';
export { FaceTracker, pointAt, type Track, type TrackPoint, type FrameDetection, type TrackerOptions } from './tracker.ts';
export { trackVideo, type FrameDetector, type TrackingResult } from './track-video.ts';
export { fuseVideo, overlay, VideoCancelled, type FusionRunner, type VideoFace, type LogoOverlay, type FuseVideoOptions, type FuseVideoResult } from './pipeline.ts';
export { faceUsable, frontalness, fusedFrames, MAX_VIDEO_YAW, yawOf2d } from './face-usable.ts';
export { encodeTracks, decodeTracks, decodeTrackFile } from './track-codec.ts';
export { BarsOverTime } from './letterbox.ts';
export type { Area } from '../fusion/frame-border.ts';
