// Every action declaration, built from the services it calls. The composition root (app.ts)
// hands each capability only what its handlers use; anything in the action table without a
// declaration answers UnsupportedOperation.
import type { Clock } from '../../domain/clock.ts';
import type { RetentionRule } from '../../domain/retention-policy.ts';
import type { VisionEngine } from '../../services/media/vision-engine.ts';
import type { LibraryModule } from '../../services/library/library-module.ts';
import type { FusionModule } from '../../services/fusion/fusion-module.ts';
import type { PrivacyModule } from '../../services/privacy/privacy-module.ts';
import type { UsageService } from '../../services/usage/usage.ts';
import type { ScoreScales } from '../../services/recognition/active-calibration.ts';
import type { AccountsService } from '../../services/accounts/accounts.ts';
import type { AuditLog } from '../../services/accounts/audit.ts';
import type { VideoModule } from '../../services/video/video-module.ts';
import type { ActionDef } from '../actions/define.ts';
import { privacyActions } from './privacy.ts';
import { fusionActions } from './fusion.ts';
import { analysisActions } from './analysis.ts';
import { libraryActions } from './library.ts';
import { recognitionActions } from './recognition.ts';
import { accountActions } from './accounts.ts';
import { stsActions } from './sts.ts';
import { iai2018Actions } from './iai-2018.ts';
import { facefusion2018Actions } from './facefusion-2018.ts';
import type { FederationTokens } from '../../services/accounts/federation.ts';
import { videoActions } from './video.ts';

export interface ActionDeps {
  clock: Clock;
  region: string;
  retention: RetentionRule[];
  vision: VisionEngine;
  library: LibraryModule;
  fusion: FusionModule;
  privacy: PrivacyModule;
  usage: UsageService;
  /** The active Score calibration (default: the shipped one). */
  scales?: ScoreScales;
  accounts: AccountsService;
  audit: AuditLog;
  /** Temporary credentials (sts GetFederationToken); without it sts answers UnsupportedOperation. */
  tokens?: Pick<FederationTokens, 'mint'>;
  video: VideoModule;
}

export function allActions(d: ActionDeps): ActionDef<any>[] {
  return [
    ...privacyActions({ privacy: d.privacy, usage: d.usage, clock: d.clock, region: d.region, retention: d.retention }),
    ...fusionActions({ fusion: d.fusion }),
    ...videoActions({ video: d.video }),
    ...analysisActions({ vision: d.vision }),
    ...libraryActions({ library: d.library }),
    ...recognitionActions({ vision: d.vision, scales: d.scales }),
    ...accountActions({ accounts: d.accounts, audit: d.audit }),
    ...iai2018Actions({ vision: d.vision, scales: d.scales }),
    ...facefusion2018Actions({ fusion: d.fusion }),
    ...(d.tokens ? stsActions({ tokens: d.tokens }) : []),
  ];
}
